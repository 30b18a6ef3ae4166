-- Freshness of the marts and, per zone, the latest local date with data
-- (docs/api.md#read-api, `meta`): a JSON object {tz: "YYYY-MM-DD"}.
select
    status.refreshed_at,
    status.loaded_through,
    (
        select jsonb_object_agg(zone_days.tz, zone_days.latest_date)
        from (
            select
                mart_days.tz,
                max(mart_days.event_date) as latest_date
            from marts.fct_daily_active_users as mart_days
            group by mart_days.tz
        ) as zone_days
    ) as latest_dates
from (select 1 as id) as one
left join marts.refresh_status as status on one.id = status.id
