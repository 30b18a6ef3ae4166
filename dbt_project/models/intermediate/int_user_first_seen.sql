-- Grain: one row per (tz, user_id): the user's first-ever event and the cohorts it puts them
-- in, by the local calendar of zone tz (week: the local Monday).
-- Incremental: rows are never updated in raw, so first_seen_at only ever moves earlier;
-- only users whose first event is new or earlier than before are rewritten (in every zone).
{{ config(
    unique_key=['tz', 'user_id'],
    indexes=[
        {'columns': ['tz', 'user_id'], 'unique': True},
        {'columns': ['tz', 'cohort_date']},
    ],
) }}

with events as (
    select * from {{ ref('stg_events') }}
),

candidates as (
    select
        user_id,
        min(occurred_at) as first_seen_at
    from events
    {% if is_incremental() %}
    where loaded_at >= {{ window_start() }}
    {% endif %}
    group by user_id
),

zoned_candidates as (
    select
        zones.tz,
        candidates.user_id,
        candidates.first_seen_at
    from candidates
    cross join {{ zones_relation() }}
),

{% if is_incremental() %}
changed as (
    select zoned_candidates.*
    from zoned_candidates
    left join {{ this }} as existing_rows
        on
            zoned_candidates.tz = existing_rows.tz
            and zoned_candidates.user_id = existing_rows.user_id
    where
        existing_rows.user_id is null
        or zoned_candidates.first_seen_at < existing_rows.first_seen_at
),
{% else %}
changed as (
    select * from zoned_candidates
),
{% endif %}

final as (
    select
        tz,
        user_id,
        first_seen_at,
        {{ local_date('first_seen_at', 'tz') }} as cohort_date,
        {{ iso_week(local_date('first_seen_at', 'tz')) }} as cohort_week
    from changed
)

select * from final
