-- The newest rejected capture messages, optionally only those received since a time.
select
    received_at,
    source,
    message_id,
    reason,
    payload_bytes,
    payload
from raw.rejects
where %(since)s::timestamptz is null or received_at >= %(since)s::timestamptz
order by received_at desc, reject_id asc
limit %(row_limit)s
