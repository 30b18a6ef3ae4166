-- Give the refresh lease back (a no-op if this session no longer holds it).
select raw.release_refresh_lease(%(holder)s)
