-- Grain: one row per (event_type, user_id, event_date) with at least one such event.
-- previous_event_date is the user's latest earlier day with that event type: a user is active
-- in a date range exactly once, at the first row in it whose previous day lies before the
-- range, which lets the top-events read count distinct users over any range from a small
-- aggregate (fct_event_type_reach) instead of scanning users.
-- Incremental: every (type, user) row on a touched day is recomputed; later rows of those
-- (type, user) pairs are rewritten only when a late event changed their previous day.
-- updated_at (the build's transaction time) tells the marts which rows changed.
{{ config(
    unique_key=['event_type', 'user_id', 'event_date'],
    indexes=[
        {'columns': ['event_type', 'user_id', 'event_date'], 'unique': True},
        {'columns': ['event_date']},
        {'columns': ['updated_at']},
    ],
) }}

with events as (
    select * from {{ ref('stg_events') }}
),

{% if is_incremental() %}
affected_days as (
    {{ new_event_days(ref('stg_events')) }}
),

scoped_events as (
    {{ events_on_days(ref('stg_events'), 'affected_days') }}
),

recomputed as (
    select
        event_type,
        user_id,
        event_date,
        count(*) as events,
        max(loaded_at) as loaded_at
    from scoped_events
    group by event_type, user_id, event_date
),

-- per touched (type, user): the first recomputed day
affected_pairs as (
    select
        event_type,
        user_id,
        min(event_date) as first_day
    from recomputed
    group by event_type, user_id
),

-- the stored rows a recomputed row can affect or needs: the last one before the pair's first
-- recomputed day (the anchor, never rewritten) and every later one not being recomputed
kept as (
    select
        existing.event_type,
        existing.user_id,
        existing.event_date,
        existing.events,
        existing.loaded_at,
        existing.previous_event_date,
        existing.event_date > affected_pairs.first_day as may_change
    from affected_pairs
    inner join {{ this }} as existing
        on
            affected_pairs.event_type = existing.event_type
            and affected_pairs.user_id = existing.user_id
            and existing.event_date >= coalesce(
                (
                    select max(anchor.event_date)
                    from {{ this }} as anchor
                    where
                        anchor.event_type = affected_pairs.event_type
                        and anchor.user_id = affected_pairs.user_id
                        and anchor.event_date < affected_pairs.first_day
                ),
                affected_pairs.first_day
            )
    where existing.event_date not in (select a.event_date from affected_days as a)
),

combined as (
    select
        event_type,
        user_id,
        event_date,
        events,
        loaded_at,
        true as recomputed,
        true as may_change,
        null::date as stored_previous_date
    from recomputed
    union all
    select
        event_type,
        user_id,
        event_date,
        events,
        loaded_at,
        false as recomputed,
        may_change,
        previous_event_date as stored_previous_date
    from kept
),
{% else %}
combined as (
    select
        event_type,
        user_id,
        event_date,
        count(*) as events,
        max(loaded_at) as loaded_at,
        true as recomputed,
        true as may_change,
        null::date as stored_previous_date
    from events
    group by event_type, user_id, event_date
),
{% endif %}

with_previous as (
    select
        *,
        lag(event_date) over (
            partition by event_type, user_id order by event_date
        ) as previous_event_date
    from combined
),

final as (
    select
        event_type,
        user_id,
        event_date,
        previous_event_date,
        events,
        loaded_at,
        now() as updated_at
    from with_previous
    where
        recomputed
        or (may_change and previous_event_date is distinct from stored_previous_date)
)

select * from final
