-- Distinct users active in the %(window_days)s days ending each day of the range, with the
-- day's active users (window 1) and the 30 days' (MAU), ascending, every day included.
-- From day gaps (days since the user's previous active day g, 31 = first day or 31 or more):
-- a user-day x counts in the window [d - w + 1, d] exactly once when it lies in it and its
-- previous day lies before it, i.e. for the days d from x + greatest(0, w - g) to x + w - 1.
-- So each row adds its users on the first of those days and takes them off the day after the
-- last, and a running sum over the days gives every window: linear in the rows read, which
-- are the 29 days before the range and the range (earlier rows add and take off before it).
-- `source` picks the users counted:
--   all   every user: marts.fct_user_day_gaps
--   type  users with the one type in event_types: marts.fct_event_type_reach
--   types users with any of several types: their days in those days, from
--         intermediate.int_user_event_type_days (a first day there counts as 31)
with calendar as (
    select calendar_day::date as calendar_date
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
),

-- (day, change of the window's users, of the day's, of the 30 days'); every day of the range
changes as (
    select
        event_date + greatest(0, %(window_days)s::int - days_since_previous) as change_date,
        active_users as window_change,
        0 as dau_change,
        0 as mau_change
    from day_gaps
    union all
    select
        event_date + %(window_days)s::int as change_date,
        -active_users as window_change,
        0 as dau_change,
        0 as mau_change
    from day_gaps
    union all
    select
        event_date as change_date,
        0 as window_change,
        active_users as dau_change,
        0 as mau_change
    from day_gaps
    union all
    select
        event_date + 1 as change_date,
        0 as window_change,
        -active_users as dau_change,
        0 as mau_change
    from day_gaps
    union all
    select
        event_date + greatest(0, 30 - days_since_previous) as change_date,
        0 as window_change,
        0 as dau_change,
        active_users as mau_change
    from day_gaps
    union all
    select
        event_date + 30 as change_date,
        0 as window_change,
        0 as dau_change,
        -active_users as mau_change
    from day_gaps
    union all
    select
        calendar_date as change_date,
        0 as window_change,
        0 as dau_change,
        0 as mau_change
    from calendar
),

daily_changes as (
    select
        change_date,
        sum(window_change) as window_change,
        sum(dau_change) as dau_change,
        sum(mau_change) as mau_change
    from changes
    group by change_date
),

running as (
    select
        change_date,
        sum(window_change) over by_day as active_users,
        sum(dau_change) over by_day as dau,
        sum(mau_change) over by_day as mau
    from daily_changes
    window by_day as (order by change_date)
)

select
    change_date,
    active_users::bigint as active_users,
    dau::bigint as dau,
    mau::bigint as mau
from running
where change_date between %(date_from)s::date and %(date_to)s::date
order by change_date
