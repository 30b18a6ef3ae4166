-- Serialize concurrent `eventmart migrate` runs until this transaction ends.
select pg_advisory_xact_lock(%(lock_id)s)
