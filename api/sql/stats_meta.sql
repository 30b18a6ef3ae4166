-- Freshness of the marts and the latest UTC date with data (docs/api.md#read-api, `meta`).
select
    status.refreshed_at,
    status.loaded_through,
    (select max(mart_days.event_date) from marts.fct_daily_active_users as mart_days) as latest_date
from (select 1 as id) as one
left join marts.refresh_status as status on one.id = status.id
