-- Retention by a start and a return event (PostHog's first-time retention): a user's cohort
-- is the first local day (or its Monday week, step_days = 7) they did start_event (no
-- start_event: their first-ever event); offset 0 is the cohort size; a cohort user counts in
-- offset k = 1..periods when they did return_event (no return_event: any event) on the day
-- (in the week) cohort + k. Cohort first days in date_from..date_to. Sparse cells.
with first_days as (
    select
        user_id,
        event_date as first_day
    from intermediate.int_user_event_type_days
    where
        %(start_event)s::text is not null
        and tz = %(tz)s
        and event_type = %(start_event)s::text
        and previous_event_date is null
        and event_date between %(date_from)s::date and %(date_to)s::date
    union all
    select
        user_id,
        cohort_date as first_day
    from intermediate.int_user_first_seen
    where
        %(start_event)s::text is null
        and tz = %(tz)s
        and cohort_date between %(date_from)s::date and %(date_to)s::date
),

bucketed as (
    select
        user_id,
        case
            when %(step_days)s::int = 7 then date_trunc('week', first_day::timestamp)::date
            else first_day
        end as cohort
    from first_days
),

-- the days in which a return counts: cohort + step_days up to the end of offset `periods`
cohorts as (
    select
        user_id,
        cohort,
        cohort + %(step_days)s::int as returns_from,
        cohort + %(step_days)s::int * (%(periods)s::int + 1) as returns_until
    from bucketed
),

-- the return event's days (no return_event: every active day) after the first cohort
returns as (
    select
        user_id,
        event_date
    from intermediate.int_user_event_type_days
    where
        %(return_event)s::text is not null
        and tz = %(tz)s
        and event_type = %(return_event)s::text
        and event_date > %(date_from)s::date
        and event_date < %(date_to)s::date + %(step_days)s::int * (%(periods)s::int + 1)
    union all
    select
        user_id,
        event_date
    from intermediate.int_user_days
    where
        %(return_event)s::text is null
        and tz = %(tz)s
        and event_date > %(date_from)s::date
        and event_date < %(date_to)s::date + %(step_days)s::int * (%(periods)s::int + 1)
),

return_days as (
    select
        cohorts.cohort,
        cohorts.user_id,
        returns.event_date
    from cohorts
    inner join returns
        on
            cohorts.user_id = returns.user_id
            and cohorts.returns_from <= returns.event_date
            and cohorts.returns_until > returns.event_date
),

cells as (
    select
        cohort,
        0 as period_offset,
        count(*) as retained_users
    from cohorts
    group by cohort
    union all
    select
        cohort,
        (event_date - cohort) / %(step_days)s::int as period_offset,
        count(distinct user_id) as retained_users
    from return_days
    group by cohort, (event_date - cohort) / %(step_days)s::int
)

select
    cohort,
    period_offset,
    retained_users
from cells
order by cohort, period_offset
