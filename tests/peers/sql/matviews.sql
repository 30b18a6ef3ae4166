-- PostgreSQL's own answer to the marts: materialized views of the same aggregates over
-- raw.events, rebuilt whole by REFRESH MATERIALIZED VIEW (the peer of our incremental refresh).
create schema if not exists peers;

create materialized view if not exists peers.mv_daily_active_users as
select
    (occurred_at at time zone 'UTC')::date as event_date,
    count(distinct user_id) as active_users,
    count(*) as events
from raw.events
group by event_date;

create materialized view if not exists peers.mv_daily_event_types as
select
    (occurred_at at time zone 'UTC')::date as event_date,
    event_type,
    count(*) as events,
    count(distinct user_id) as active_users
from raw.events
group by event_date, event_type;

create materialized view if not exists peers.mv_event_type_reach as
with type_days as (
    select
        event_type,
        user_id,
        (occurred_at at time zone 'UTC')::date as event_date,
        count(*) as events
    from raw.events
    group by event_type, user_id, event_date
),

with_previous as (
    select
        event_date,
        event_type,
        events,
        lag(event_date) over (partition by event_type, user_id order by event_date)
            as previous_event_date
    from type_days
)

select
    event_date,
    event_type,
    previous_event_date,
    count(*) as active_users,
    sum(events) as events
from with_previous
group by event_date, event_type, previous_event_date;

create materialized view if not exists peers.mv_retention_daily as
with activity as (
    select distinct
        user_id,
        (occurred_at at time zone 'UTC')::date as activity_date
    from raw.events
),

cohorts as (
    select
        user_id,
        min(activity_date) as cohort_date
    from activity
    group by user_id
)

select
    cohorts.cohort_date,
    activity.activity_date - cohorts.cohort_date as period_offset,
    count(*) as retained_users
from cohorts
inner join activity on cohorts.user_id = activity.user_id
group by cohorts.cohort_date, period_offset;

create materialized view if not exists peers.mv_retention_weekly as
with activity as (
    select distinct
        user_id,
        date_trunc('week', occurred_at at time zone 'UTC')::date as activity_week
    from raw.events
),

cohorts as (
    select
        user_id,
        min(activity_week) as cohort_week
    from activity
    group by user_id
)

select
    cohorts.cohort_week,
    (activity.activity_week - cohorts.cohort_week) / 7 as period_offset,
    count(*) as retained_users
from cohorts
inner join activity on cohorts.user_id = activity.user_id
group by cohorts.cohort_week, period_offset;
