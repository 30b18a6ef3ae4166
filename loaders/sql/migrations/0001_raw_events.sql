-- The raw landing table (docs/api.md#storage). Written only by loaders.writer.write_events.
create schema if not exists raw;

create table if not exists raw.events (
    event_id text primary key,
    user_id text not null,
    event_type text not null,
    occurred_at timestamptz not null,
    properties jsonb not null default '{}'::jsonb,
    received_at timestamptz not null,
    loaded_at timestamptz not null default clock_timestamp()
);

-- The incremental marts find new rows by loaded_at and recompute days by occurred_at.
create index if not exists events_loaded_at_idx on raw.events (loaded_at);
create index if not exists events_occurred_at_idx on raw.events (occurred_at);
