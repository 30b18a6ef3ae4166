-- Grain: one row per (event_date, event_type, previous_event_date) (the last may be null).
-- `active_users`: users active with that type that day whose previous such day was previous_event_date.
-- Distinct users of a type over [from, to] = sum(active_users) over the range's days where
-- previous_event_date is null or before `from`; events = sum(events) over the range.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key='event_date',
    indexes=[
        {'columns': ['event_date', 'event_type', 'previous_event_date'], 'unique': True},
    ],
) }}

with type_days as (
    select * from {{ ref('int_user_event_type_days') }}
),

{% if is_incremental() %}
new_type_days as (
    select distinct
        event_type,
        user_id,
        event_date
    from {{ ref('stg_events') }}
    where loaded_at >= {{ window_start() }}
),

-- the next day of each touched (type, user): its previous day may have changed
next_days as (
    select following.event_date
    from new_type_days
    cross join lateral (
        select t.event_date
        from type_days as t
        where
            t.event_type = new_type_days.event_type
            and t.user_id = new_type_days.user_id
            and t.event_date > new_type_days.event_date
        order by t.event_date
        limit 1
    ) as following
),

affected_days as (
    select event_date from new_type_days
    union
    select event_date from next_days
),

scoped as (
    select type_days.*
    from type_days
    inner join affected_days on type_days.event_date = affected_days.event_date
),
{% else %}
scoped as (
    select * from type_days
),
{% endif %}

final as (
    select
        event_date,
        event_type,
        previous_event_date,
        count(*) as active_users,
        sum(events)::bigint as events
    from scoped
    group by event_date, event_type, previous_event_date
)

select * from final
