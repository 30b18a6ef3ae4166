-- The last successful refresh, as recorded by the dbt project's on-run-end hook.
select
    refreshed_at,
    loaded_through
from marts.refresh_status
where id = 1
