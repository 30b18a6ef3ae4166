-- Wait for the one mart refresh slot (session lock, released on unlock or disconnect).
select pg_advisory_lock(%(lock_id)s)
