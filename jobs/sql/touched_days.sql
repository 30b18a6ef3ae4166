-- How many UTC days the rows loaded since the earliest watermark touch, and how many days the
-- marts hold: when most days are touched, rebuilding from scratch is cheaper than delete+insert.
with marks as (
    select min(safe_from) - %(lookback)s::interval as threshold
    from marts.refresh_watermarks
    where model_name = any(%(models)s)
),

touched as (
    select distinct (e.occurred_at at time zone 'UTC')::date as event_date
    from raw.events as e
    where e.loaded_at >= (select marks.threshold from marks)
)

select
    (select count(*) from touched) as touched_days,
    (select count(*) from marts.fct_daily_active_users) as total_days
