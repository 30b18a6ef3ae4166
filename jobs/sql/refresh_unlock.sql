-- Give the mart refresh slot back.
select pg_advisory_unlock(%(lock_id)s)
