-- Held (shared) from before loaded_at is stamped until commit: a mart refresh takes it
-- exclusively to wait for writes in flight (dbt_project/macros/watermarks.sql).
select pg_advisory_xact_lock_shared(%(lock_id)s)
