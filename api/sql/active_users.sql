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
    select calendar_day::date as day
    from generate_series(
        %(date_from)s::date, %(date_to)s::date, interval '1 day'
    ) as calendar_day
),

union_days as (
    select distinct
        type_days.user_id,
        type_days.event_date
    from intermediate.int_user_event_type_days as type_days
    where
        %(source)s::text = 'types'
        and type_days.tz = %(tz)s
        and type_days.event_type = any(%(event_types)s::text [])
        and type_days.event_date between %(date_from)s::date - 29 and %(date_to)s::date
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
        gaps.event_date,
        gaps.days_since_previous,
        gaps.active_users
    from marts.fct_user_day_gaps as gaps
    where
        %(source)s::text = 'all'
        and gaps.tz = %(tz)s
        and gaps.event_date between %(date_from)s::date - 29 and %(date_to)s::date
    union all
    select
        reach.event_date,
        least(coalesce(reach.event_date - reach.previous_event_date, 31), 31),
        reach.active_users
    from marts.fct_event_type_reach as reach
    where
        %(source)s::text = 'type'
        and reach.tz = %(tz)s
        and reach.event_type = any(%(event_types)s::text [])
        and reach.event_date between %(date_from)s::date - 29 and %(date_to)s::date
    union all
    select
        event_date,
        least(coalesce(gap, 31), 31),
        1
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
    calendar.day,
    coalesce(sum(day_gaps.active_users) filter (
        where
        day_gaps.event_date > calendar.day - %(window_days)s
        and day_gaps.days_since_previous
        > day_gaps.event_date - (calendar.day - %(window_days)s + 1)
    ), 0)::bigint as active_users,
    coalesce(sum(day_gaps.active_users) filter (
        where day_gaps.event_date = calendar.day
    ), 0)::bigint as dau,
    coalesce(sum(day_gaps.active_users) filter (
        where day_gaps.days_since_previous > day_gaps.event_date - (calendar.day - 29)
    ), 0)::bigint as mau
from calendar
left join day_gaps
    on day_gaps.event_date between calendar.day - 29 and calendar.day
group by calendar.day
order by calendar.day
