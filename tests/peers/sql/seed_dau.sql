-- The seed's design: daily active users and events aggregated from raw.events per request.
with calendar as (
    select calendar_day::date as event_date
    from generate_series(
        %(date_from)s::date, %(date_to)s::date, interval '1 day'
    ) as calendar_day
),

daily as (
    select
        (occurred_at at time zone 'UTC')::date as event_date,
        count(distinct user_id) as active_users,
        count(*) as events
    from raw.events
    where
        occurred_at >= (%(date_from)s::date)::timestamp at time zone 'UTC'
        and occurred_at < (%(date_to)s::date + 1)::timestamp at time zone 'UTC'
    group by event_date
)

select
    calendar.event_date,
    coalesce(daily.active_users, 0) as active_users,
    coalesce(daily.events, 0) as events
from calendar
left join daily on calendar.event_date = daily.event_date
order by calendar.event_date
