-- Distinct users active in the %(window_days)s days ending each day of the range, with the
-- day's active users (window 1) and the 30 days' (MAU), ascending, every day included.
-- From day gaps (days since the user's previous active day, 31 = first day or 31 or more):
-- a user-day counts in the window [d - w + 1, d] exactly once when it lies in it and
-- days_since_previous > event_date - (d - w + 1). `source` picks the users counted:
--   all   every user: marts.fct_user_day_gaps
--   type  users with the one type in event_types: marts.fct_event_type_reach
--   types users with any of several types: their days in the 29 days before the range and
--         the range, from intermediate.int_user_event_type_days (a day before those 29 days
--         cannot be a previous day inside any window, so a first day there counts as 31)
with calendar as (
    select
        calendar_day::date as calendar_date,
        calendar_day::date - %(window_days)s::int + 1 as window_start,
        calendar_day::date - 29 as mau_start
    from generate_series(
        %(date_from)s::date, %(date_to)s::date, interval '1 day'
    ) as calendar_day
),

union_days as (
    select distinct
        user_id,
        event_date
    from intermediate.int_user_event_type_days
    where
        %(source)s::text = 'types'
        and tz = %(tz)s
        and event_type = any(%(event_types)s::text[])
        and event_date between %(date_from)s::date - 29 and %(date_to)s::date
),

user_gaps as (
    select
        event_date,
        event_date - lag(event_date) over (
            partition by user_id order by event_date
        ) as gap
    from union_days
),

gap_rows as (
    select
        event_date,
        days_since_previous,
        active_users
    from marts.fct_user_day_gaps
    where
        %(source)s::text = 'all'
        and tz = %(tz)s
        and event_date between %(date_from)s::date - 29 and %(date_to)s::date
    union all
    select
        event_date,
        least(coalesce(event_date - previous_event_date, 31), 31) as days_since_previous,
        active_users
    from marts.fct_event_type_reach
    where
        %(source)s::text = 'type'
        and tz = %(tz)s
        and event_type = any(%(event_types)s::text[])
        and event_date between %(date_from)s::date - 29 and %(date_to)s::date
    union all
    select
        event_date,
        least(coalesce(gap, 31), 31) as days_since_previous,
        1 as active_users
    from user_gaps
),

day_gaps as (
    select
        event_date,
        days_since_previous,
        sum(active_users) as active_users
    from gap_rows
    group by event_date, days_since_previous
)

select
    calendar.calendar_date,
    coalesce(sum(day_gaps.active_users) filter (
        where
        day_gaps.event_date >= calendar.window_start
        and day_gaps.days_since_previous > day_gaps.event_date - calendar.window_start
    ), 0)::bigint as active_users,
    coalesce(sum(day_gaps.active_users) filter (
        where day_gaps.event_date = calendar.calendar_date
    ), 0)::bigint as dau,
    coalesce(sum(day_gaps.active_users) filter (
        where day_gaps.days_since_previous > day_gaps.event_date - calendar.mau_start
    ), 0)::bigint as mau
from calendar
left join day_gaps
    on day_gaps.event_date between calendar.mau_start and calendar.calendar_date
group by calendar.calendar_date
order by calendar.calendar_date
