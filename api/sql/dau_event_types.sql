-- Daily active users and events of some event types for every date of the range, zeros
-- included, ascending. Events add up over the types (marts.fct_daily_event_types); so do the
-- users of one type, but a user with several of the types on one day counts once, so with
-- several types the users come from intermediate.int_user_event_type_days.
with calendar as (
    select calendar_day::date as event_date
    from generate_series(
        %(date_from)s::date, %(date_to)s::date, interval '1 day'
    ) as calendar_day
),

type_totals as (
    select
        event_date,
        sum(events)::bigint as events,
        sum(active_users)::bigint as active_users
    from marts.fct_daily_event_types
    where
        tz = %(tz)s
        and event_type = any(%(event_types)s::text[])
        and event_date between %(date_from)s::date and %(date_to)s::date
    group by event_date
),

distinct_users as (
    select
        event_date,
        count(distinct user_id) as active_users
    from intermediate.int_user_event_type_days
    where
        cardinality(%(event_types)s::text[]) > 1
        and tz = %(tz)s
        and event_type = any(%(event_types)s::text[])
        and event_date between %(date_from)s::date and %(date_to)s::date
    group by event_date
)

select
    calendar.event_date,
    coalesce(distinct_users.active_users, type_totals.active_users, 0) as active_users,
    coalesce(type_totals.events, 0) as events
from calendar
left join type_totals on calendar.event_date = type_totals.event_date
left join distinct_users on calendar.event_date = distinct_users.event_date
order by calendar.event_date
