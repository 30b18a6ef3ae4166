-- Grain: one row per (event_type, user_id, event_date) with at least one such event.
-- previous_event_date is the user's latest earlier day with that event type: a user is active
-- in a date range exactly once at the first row in it whose previous day lies before the range,
-- which lets the top-events read count distinct users over any range without scanning users.
-- Incremental: every (type, user) row on a touched day is recomputed, plus the next existing
-- row of each such (type, user), whose previous day a late event may have changed.
{{ config(
    unique_key=['event_type', 'user_id', 'event_date'],
    indexes=[
        {'columns': ['event_type', 'user_id', 'event_date'], 'unique': True},
        {'columns': ['event_date']},
    ],
) }}

with events as (
    select * from {{ ref('stg_events') }}
),

{% if is_incremental() %}
affected_days as (
    {{ new_event_days('events') }}
),

scoped_events as (
    {{ events_on_days('events', 'affected_days') }}
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

earlier_neighbours as (
    select existing.*
    from recomputed
    cross join lateral (
        select
            t.event_type,
            t.user_id,
            t.event_date,
            t.events,
            t.loaded_at
        from {{ this }} as t
        where
            t.event_type = recomputed.event_type
            and t.user_id = recomputed.user_id
            and t.event_date < recomputed.event_date
        order by t.event_date desc
        limit 1
    ) as existing
),

later_neighbours as (
    select existing.*
    from recomputed
    cross join lateral (
        select
            t.event_type,
            t.user_id,
            t.event_date,
            t.events,
            t.loaded_at
        from {{ this }} as t
        where
            t.event_type = recomputed.event_type
            and t.user_id = recomputed.user_id
            and t.event_date > recomputed.event_date
        order by t.event_date asc
        limit 1
    ) as existing
),

combined as (
    select
        *,
        true as rewrite
    from recomputed
    union all
    select
        *,
        true as rewrite
    from later_neighbours
    where event_date not in (select a.event_date from affected_days as a)
    union all
    select
        *,
        false as rewrite
    from earlier_neighbours
    where event_date not in (select a.event_date from affected_days as a)
),

deduplicated as (
    select
        event_type,
        user_id,
        event_date,
        max(events) as events,
        max(loaded_at) as loaded_at,
        bool_or(rewrite) as rewrite
    from combined
    group by event_type, user_id, event_date
),
{% else %}
deduplicated as (
    select
        event_type,
        user_id,
        event_date,
        count(*) as events,
        max(loaded_at) as loaded_at,
        true as rewrite
    from events
    group by event_type, user_id, event_date
),
{% endif %}

with_previous as (
    select
        event_type,
        user_id,
        event_date,
        events,
        loaded_at,
        rewrite,
        lag(event_date) over (
            partition by event_type, user_id order by event_date
        ) as previous_event_date
    from deduplicated
),

final as (
    select
        event_type,
        user_id,
        event_date,
        previous_event_date,
        events,
        loaded_at
    from with_previous
    where rewrite
)

select * from final
