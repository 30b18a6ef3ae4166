{#
  One mart build at a time, whoever starts it: `dbt run`, `dbt build` and `dbt test` from the
  repo root, `eventmart refresh` and the scheduler all hold the refresh lease (raw.refresh_lease,
  migration 0005) while they run; a second one waits in on-run-start until the first ends.

  dbt opens a new connection for every model, test and hook, so no session-level advisory lock
  could last a whole run. The lease names its holder by the application_name every connection of
  this run carries (profiles.yml puts the invocation id in it): a holder that has had no
  connection for `refresh_lease_grace_seconds` is taken for dead (killed) and taken over.
  `eventmart refresh` holds the lease itself on one session and hands its name to dbt in
  EVENTMART_REFRESH_LEASE_HOLDER (read at run time only, so partial parsing is kept).
#}

{% macro lease_builds() -%}
    {{- return(execute and flags.WHICH in ('run', 'build', 'test')) -}}
{%- endmacro %}

{# The lease holder of this run: the caller's when it holds the lease for us, else our own. #}
{% macro refresh_lease_holder() -%}
    {%- set handed_over = env_var('EVENTMART_REFRESH_LEASE_HOLDER', '') if execute else '' -%}
    {%- if handed_over -%}
        {{- return(handed_over) -}}
    {%- endif -%}
    {%- set own = target.get('application_name') or '' -%}
    {%- if execute and invocation_id not in own -%}
        {{ exceptions.raise_compiler_error(
            "profiles.yml: application_name must contain the invocation id"
            ~ " (the refresh lease knows a live run by it), got '" ~ own ~ "'"
        ) }}
    {%- endif -%}
    {{- return(own) -}}
{%- endmacro %}

{% macro claim_refresh_lease() -%}
    {%- if lease_builds() -%}
        select raw.claim_refresh_lease(
            '{{ refresh_lease_holder() }}',
            interval '{{ var("refresh_lease_grace_seconds") }} seconds'
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{# Back at the end of the run, unless the caller holds the lease for us (it gives it back). #}
{% macro release_refresh_lease() -%}
    {%- if lease_builds() and not env_var('EVENTMART_REFRESH_LEASE_HOLDER', '') -%}
        select raw.release_refresh_lease('{{ refresh_lease_holder() }}')
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#
  dbt lists the relations it will build before on-run-start, so a run that waited for the
  lease knows them as they were before the run it waited for (e.g. no stg_events yet on a new
  database: it would then create it again and fail). Look again at every relation of the
  project's models (and dbt's __dbt_tmp / __dbt_backup companions) and correct dbt's cache.
#}
{% macro refresh_relation_cache() -%}
    {%- if lease_builds() -%}
        {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list -%}
        {%- set schemas = models | map(attribute='schema') | unique | list -%}
        {%- set listed -%}
            select
                n.nspname as schema_name,
                c.relname as relation_name,
                case c.relkind when 'v' then 'view' when 'm' then 'materialized_view' else 'table' end
                as relation_type
            from pg_catalog.pg_class as c
            inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
            where c.relkind in ('r', 'p', 'v', 'm') and n.nspname in ('{{ schemas | join("', '") }}')
        {%- endset -%}
        {%- set present = {} -%}
        {%- for row in run_query(listed) -%}
            {%- do present.update({row[0] ~ '.' ~ row[1]: row[2]}) -%}
        {%- endfor -%}
        {%- for model in models -%}
            {%- for suffix in ['', '__dbt_tmp', '__dbt_backup'] -%}
                {%- set key = model.schema ~ '.' ~ model.alias ~ suffix -%}
                {%- set relation = api.Relation.create(
                    database=model.database, schema=model.schema, identifier=model.alias ~ suffix,
                    type=present.get(key),
                ) -%}
                {%- if key in present -%}
                    {%- do adapter.cache_added(relation) -%}
                {%- else -%}
                    {%- do adapter.cache_dropped(relation) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
