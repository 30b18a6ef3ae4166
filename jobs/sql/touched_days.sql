-- How many UTC days the rows loaded since the threshold touch, and how many days the marts
-- hold (local dates of any zone: the share is what matters). When most days are touched,
-- rebuilding from scratch is cheaper than delete+insert.
-- The threshold is bound as a value so the planner reads the loaded_at index for few rows.
with touched as (
    select distinct (e.occurred_at at time zone 'UTC')::date as event_date
    from raw.events as e
    where e.loaded_at >= %(threshold)s::timestamptz
)

select
    (select count(*) from touched) as touched_days,
    (select count(distinct d.event_date) from marts.fct_daily_active_users as d) as total_days
