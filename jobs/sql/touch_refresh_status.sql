-- A refresh that found nothing new still confirms the marts are current.
update marts.refresh_status
set refreshed_at = clock_timestamp()
where id = 1
