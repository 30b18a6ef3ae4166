-- Grain: one row (id = 1): the end of the last successful build and how far it has read.
-- Written only by the on-run-end hook of a successful `dbt run`/`dbt build`
-- (macros/watermarks.sql, `record_refresh`) and by a refresh that found nothing new.
{{ empty_state_table('id', {
    'id': 'integer',
    'refreshed_at': 'timestamptz',
    'loaded_through': 'timestamptz',
}) }}
