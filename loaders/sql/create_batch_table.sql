-- Session-local staging table for one COPY; emptied at every commit.
create temporary table if not exists events_batch (
    event_id text,
    user_id text,
    event_type text,
    occurred_at timestamptz,
    properties text,  -- JSON text; cast to jsonb when inserted
    received_at timestamptz
) on commit delete rows
