-- Remember that one migration file has been applied.
insert into raw.schema_migrations (migration_id) values (%(migration_id)s)
