-- The reporting settings the marts were last built for (dbt_project/macros/reporting_settings.sql).
select fingerprint from marts.refresh_settings
where id = 1
