-- Grain: one row per user_id: the user's first-ever event and the cohorts it puts them in.
-- Incremental: rows are never updated in raw, so first_seen_at only ever moves earlier;
-- only users whose first event is new or earlier than before are rewritten.
{{ config(
    unique_key='user_id',
    indexes=[
        {'columns': ['user_id'], 'unique': True},
        {'columns': ['cohort_date']},
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

{% if is_incremental() %}
changed as (
    select candidates.*
    from candidates
    left join {{ this }} as existing_rows
        on candidates.user_id = existing_rows.user_id
    where
        existing_rows.user_id is null
        or candidates.first_seen_at < existing_rows.first_seen_at
),
{% else %}
changed as (
    select * from candidates
),
{% endif %}

final as (
    select
        user_id,
        first_seen_at,
        {{ utc_date('first_seen_at') }} as cohort_date,
        {{ iso_week(utc_date('first_seen_at')) }} as cohort_week
    from changed
)

select * from final
