-- Land a staged batch: the first stored copy of an event_id wins, forever.
insert into raw.events (
    event_id, user_id, event_type, occurred_at, properties, received_at
)
select
    event_id,
    user_id,
    event_type,
    occurred_at,
    properties::jsonb as properties,
    received_at
from pg_temp.events_batch
on conflict (event_id) do nothing
