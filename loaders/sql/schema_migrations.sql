-- Bookkeeping for `eventmart migrate`: one row per applied migration file.
create schema if not exists raw;

create table if not exists raw.schema_migrations (
    migration_id text primary key,
    applied_at timestamptz not null default now()
);
