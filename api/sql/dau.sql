-- Daily active users and events for every date in the range, zeros included, ascending.
with calendar as (
    select calendar_day::date as event_date
    from generate_series(
        %(date_from)s::date, %(date_to)s::date, interval '1 day'
    ) as calendar_day
)

select
    calendar.event_date,
    coalesce(dau.active_users, 0) as active_users,
    coalesce(dau.events, 0) as events
from calendar
left join marts.fct_daily_active_users as dau
    on calendar.event_date = dau.event_date
order by calendar.event_date
