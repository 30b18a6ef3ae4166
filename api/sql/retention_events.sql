-- Retention by a start and a return event (PostHog's first-time retention): a user's cohort
-- is the first local day (or its Monday week, step_days = 7) they did start_event (no
-- start_event: their first-ever event); offset 0 is the cohort size; a cohort user counts in
-- offset k = 1..periods when they did return_event (no return_event: any event) on the day
-- (in the week) cohort + k. Cohort first days in date_from..date_to. Sparse cells.
with first_days as (
    select
        type_days.user_id,
        type_days.event_date as first_day
    from intermediate.int_user_event_type_days as type_days
    where
        %(start_event)s::text is not null
        and type_days.tz = %(tz)s
        and type_days.event_type = %(start_event)s::text
        and type_days.previous_event_date is null
        and type_days.event_date between %(date_from)s::date and %(date_to)s::date
    union all
    select
        first_seen.user_id,
        first_seen.cohort_date
    from intermediate.int_user_first_seen as first_seen
    where
        %(start_event)s::text is null
        and first_seen.tz = %(tz)s
        and first_seen.cohort_date between %(date_from)s::date and %(date_to)s::date
),

cohorts as (
    select
        user_id,
        case
            when %(step_days)s::int = 7 then date_trunc('week', first_day::timestamp)::date
            else first_day
        end as cohort
    from first_days
),

return_days as (
    select
        cohorts.cohort,
        cohorts.user_id,
        type_days.event_date
    from cohorts
    inner join intermediate.int_user_event_type_days as type_days
        on
            type_days.tz = %(tz)s
            and type_days.event_type = %(return_event)s::text
            and cohorts.user_id = type_days.user_id
            and type_days.event_date >= cohorts.cohort + %(step_days)s::int
            and type_days.event_date
            < cohorts.cohort + %(step_days)s::int * (%(periods)s::int + 1)
    where %(return_event)s::text is not null
    union all
    select
        cohorts.cohort,
        cohorts.user_id,
        user_days.event_date
    from cohorts
    inner join intermediate.int_user_days as user_days
        on
            user_days.tz = %(tz)s
            and cohorts.user_id = user_days.user_id
            and user_days.event_date >= cohorts.cohort + %(step_days)s::int
            and user_days.event_date
            < cohorts.cohort + %(step_days)s::int * (%(periods)s::int + 1)
    where %(return_event)s::text is null
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
