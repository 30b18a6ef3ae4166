-- Wait for the refresh lease (raw.refresh_lease, migration 0005) and hold it as this session:
-- a plain `dbt run`/`dbt build` from the repo root may be building. Grace 0: this session
-- stays connected for the whole refresh, so once it is gone the lease is free.
select raw.claim_refresh_lease(%(holder)s)
