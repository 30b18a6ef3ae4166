-- Migrations already applied, by file name without `.sql`.
select migration_id from raw.schema_migrations
