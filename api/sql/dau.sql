-- Daily active users and events for every local date of zone tz in the range, zeros included.
with calendar as (
    select calendar_day::date as event_date
    from generate_series(
        %(date_from)s::date, %(date_to)s::date, interval '1 day'
    ) as calendar_day
),

zone_days as (
    select
        event_date,
        active_users,
        events
    from marts.fct_daily_active_users
    where
        tz = %(tz)s
        and event_date between %(date_from)s::date and %(date_to)s::date
)

select
    calendar.event_date,
    coalesce(zone_days.active_users, 0) as active_users,
    coalesce(zone_days.events, 0) as events
from calendar
left join zone_days on calendar.event_date = zone_days.event_date
order by calendar.event_date
