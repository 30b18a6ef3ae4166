-- Keep one rejected capture message; an SDK's retry of the same batch adds nothing.
insert into raw.rejects (
    reject_id, source, message_id, reason, payload, payload_bytes, received_at
) values (
    %(reject_id)s,
    %(source)s,
    %(message_id)s,
    %(reason)s,
    %(payload)s,
    %(payload_bytes)s,
    %(received_at)s
)
on conflict (reject_id) do nothing
