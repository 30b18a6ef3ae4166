{#
  The reporting settings the marts were built for. Every watermarked model holds rows for the
  configured zones (and, for the trends models, breakdown properties) as they were when it was
  last built from scratch; an incremental build only adds to them. So a change of
  EVENTMART_TIMEZONES or EVENTMART_BREAKDOWN_PROPERTIES needs a full build of every
  watermarked model, which builds the history of an added zone and drops a removed one:
    - `eventmart refresh` and the scheduler compare the stored fingerprint with the settings
      and rebuild from scratch when they differ (jobs/refresh.py);
    - a plain `dbt run`/`dbt build` that would build a watermarked model incrementally stops
      in on-run-start with a message saying so (`check_reporting_settings`), so it never
      leaves a zone half built;
    - a run that built every watermarked model successfully from scratch (or the first build)
      records the settings in marts.refresh_settings (`record_reporting_settings`).
  The fingerprint ignores order (the first zone is only the read API's default): both lists
  sorted by code point, as jobs/refresh.py `reporting_fingerprint` sorts them.
#}

{% macro reporting_fingerprint() -%}
    {{- return(
        'timezones=' ~ (reporting_zones() | sort(case_sensitive=true) | join(','))
        ~ ';breakdown_properties=' ~ (breakdown_properties() | sort(case_sensitive=true) | join(','))
    ) -}}
{%- endmacro %}

{# The stored fingerprint, or none (no marts.refresh_settings yet, or no row in it). #}
{% macro stored_reporting_fingerprint() -%}
    {%- set relation = adapter.get_relation(
        database=target.database, schema='marts', identifier='refresh_settings'
    ) -%}
    {%- if relation is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set found = run_query('select fingerprint from ' ~ relation ~ ' where id = 1') -%}
    {{- return(found.columns[0].values()[0] if found.rows | length > 0 else none) -}}
{%- endmacro %}

{# The project's watermarked models (graph nodes). #}
{% macro watermarked_nodes() -%}
    {%- set nodes = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'watermarked' in node.tags -%}
        {%- do nodes.append(node) -%}
    {%- endfor -%}
    {{- return(nodes) -}}
{%- endmacro %}

{% macro check_reporting_settings() -%}
    {%- if execute and flags.WHICH in ('run', 'build') and not flags.FULL_REFRESH -%}
        {%- set selected = watermarked_nodes() | selectattr('unique_id', 'in', selected_resources) | list -%}
        {%- set built = [] -%}
        {%- for node in selected -%}
            {%- if adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) is not none -%}
                {%- do built.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set stored = stored_reporting_fingerprint() -%}
        {%- set current = reporting_fingerprint() -%}
        {%- if built and stored != current -%}
            {{ exceptions.raise_compiler_error(
                "The marts were built for the reporting settings '" ~ (stored or 'unknown (before 0.18)')
                ~ "', this run has '" ~ current ~ "' (EVENTMART_TIMEZONES /"
                ~ " EVENTMART_BREAKDOWN_PROPERTIES). An incremental build would leave the change"
                ~ " half built: run `eventmart refresh` (it rebuilds from scratch when they changed)"
                ~ " or `dbt run --full-refresh` (docs/marts.md#reporting-zones)."
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro record_reporting_settings(results) -%}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set wanted = watermarked_nodes() | map(attribute='unique_id') | list -%}
        {%- set done = results
            | selectattr('status', 'equalto', 'success')
            | map(attribute='node')
            | selectattr('unique_id', 'in', wanted)
            | list -%}
        {%- set status = adapter.get_relation(
            database=target.database, schema='marts', identifier='refresh_settings'
        ) -%}
        {%- if status is not none and done | length == wanted | length
            and (flags.FULL_REFRESH or stored_reporting_fingerprint() is none) -%}
            insert into {{ status }} as s (id, fingerprint, recorded_at)
            values (1, '{{ reporting_fingerprint() | replace("'", "''") }}', clock_timestamp())
            on conflict (id) do update set
                fingerprint = excluded.fingerprint,
                recorded_at = excluded.recorded_at
        {%- else -%}
            select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
