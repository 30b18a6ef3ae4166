-- The seed's design: retained users per cohort (first-ever period) and offset 0..periods,
-- from raw.events per request. step_days is 1 (UTC days) or 7 (ISO weeks by Monday).
with params as (
    select
        %(step_days)s::int as step_days,
        %(periods)s::int as periods,
        %(date_from)s::date as date_from,
        %(date_to)s::date as date_to
),

activity as (
    select distinct
        events.user_id,
        case
            when params.step_days = 7
                then date_trunc('week', events.occurred_at at time zone 'UTC')::date
            else (events.occurred_at at time zone 'UTC')::date
        end as period_start
    from raw.events as events
    cross join params
),

cohorts as (
    select
        activity.user_id,
        min(activity.period_start) as cohort
    from activity
    group by activity.user_id
)

select
    cohorts.cohort,
    (activity.period_start - cohorts.cohort) / params.step_days as period_offset,
    count(*) as retained_users
from cohorts
inner join activity on cohorts.user_id = activity.user_id
cross join params
where
    cohorts.cohort between params.date_from and params.date_to
    and activity.period_start - cohorts.cohort <= params.periods * params.step_days
group by cohorts.cohort, period_offset
order by cohorts.cohort, period_offset
