{#
  Incremental bookkeeping, one row per watermarked model in marts.refresh_watermarks (a model:
  models/refresh_state).

  `safe_from`: the model holds exactly the raw rows with loaded_at < safe_from. A refresh
  reads the rows with safe_from <= loaded_at < pending_safe_from (`loaded_window`), adds or
  recomputes what they touch and moves safe_from to pending_safe_from. That value is captured in
  the pre-hook, before the model's own query takes its snapshot, and is the earliest of:
    - the moment every raw write in flight had committed: the raw writer holds a shared
      advisory lock (`raw_write_lock_id`, loaders/writer.py) from before it stamps loaded_at
      until it commits, so taking that lock exclusively waits for those writes, and every later
      write stamps a later loaded_at; and
    - the watermarks of the model's upstream models (a mart must not move past what the
      intermediate models it reads already contain).
  So no raw row is read twice or skipped, which lets the intermediate models add new rows to
  stored counts. Pre-hook, model and post-hook run in one transaction, so a failed build moves
  nothing; a second build of the same model waits on the watermark row until the first ends.
#}

{# The watermark table is a model (models/refresh_state), so every reader depends on it. #}
{% macro watermark_table() -%}
    {{ ref('refresh_watermarks') }}
{%- endmacro %}

{% macro capture_watermark() %}
    {%- set upstream = [] -%}
    {%- for node_id in model.depends_on.nodes if node_id.startswith('model.') -%}
        {%- do upstream.append(node_id.split('.')[-1]) -%}
    {%- endfor -%}
    select raw.assert_refresh_lease('{{ refresh_lease_holder() }}');
    insert into {{ watermark_table() }} (model_name) values ('{{ this.name }}')
    on conflict (model_name) do nothing;
    select 1 from {{ watermark_table() }}
    where model_name = '{{ this.name }}'
    for update;
    -- held only for this one-row update: no raw write is in flight, later ones stamp later
    select pg_advisory_lock({{ var('raw_write_lock_id') }});
    update {{ watermark_table() }} set pending_safe_from = clock_timestamp()
    where model_name = '{{ this.name }}';
    select pg_advisory_unlock({{ var('raw_write_lock_id') }});
    update {{ watermark_table() }}
    set pending_safe_from = least(
        pending_safe_from,
        (
            select min(u.safe_from) from {{ watermark_table() }} as u
            where u.model_name in ('{{ upstream | join("', '") }}')
        )
    )
    where model_name = '{{ this.name }}'
{% endmacro %}

{% macro advance_watermark() %}
    update {{ watermark_table() }}
    set safe_from = pending_safe_from
    where model_name = '{{ this.name }}'
{% endmacro %}

{#
  This model's safe_from, read when the model is compiled and written into its SQL as a
  constant: with a subquery the planner would guess that a third of raw.events is new and scan
  all of it, where the loaded_at index reads the few new rows. safe_from only moves forward, so
  the constant is never later than the value the build uses (see `loaded_window`). A full
  build (or a compile without a database, as sqlfluff's) reads everything.
#}
{% macro window_start() -%}
    {#- ISO 8601 in UTC: read back the same whatever the session's DateStyle and TimeZone -#}
    {%- set start_query -%}
        select coalesce(
            to_char(max(w.safe_from) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            '-infinity'
        )
        from {{ watermark_table() }} as w
        where w.model_name = '{{ this.name }}'
    {%- endset -%}
    {%- if execute and is_incremental() -%}
        '{{ run_query(start_query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#
  The rows this build must read, exactly: `column` (loaded_at) in [safe_from, pending_safe_from)
  of this model, as they stand after the pre-hook; a full build reads everything before
  pending_safe_from.
#}
{% macro loaded_window(column='loaded_at') -%}
    {%- if is_incremental() -%}
        {{ column }} >= {{ window_start() }}
        and {{ column }} >= (
            select coalesce(w.safe_from, '-infinity'::timestamptz)
            from {{ watermark_table() }} as w where w.model_name = '{{ this.name }}'
        )
        and
    {% endif -%}
    {{ column }} < (
        select w.pending_safe_from
        from {{ watermark_table() }} as w where w.model_name = '{{ this.name }}'
    )
{%- endmacro %}

{# Record the end of a successful `dbt run`/`dbt build` for the read API's meta. #}
{% macro record_refresh(results) %}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped']) | list -%}
        {%- set built = results | selectattr('node.name', 'equalto', 'fct_daily_active_users') | list -%}
        {%- set status = adapter.get_relation(database=target.database, schema='marts', identifier='refresh_status') -%}
        {%- if failed | length == 0 and built | length > 0 and status is not none -%}
            insert into marts.refresh_status as s (id, refreshed_at, loaded_through)
            select 1, clock_timestamp(), max(d.loaded_through)
            from marts.fct_daily_active_users as d
            on conflict (id) do update set
                refreshed_at = excluded.refreshed_at,
                loaded_through = excluded.loaded_through
        {%- else -%}
            select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}

{#
  After a full build: fresh planner statistics for the rebuilt watermarked models, so the next
  incremental build plans its joins on them (autovacuum would get there, but only after that
  build had run slowly).
#}
{% macro analyze_rebuilt(results) %}
    {%- set rebuilt = [] -%}
    {%- if execute and flags.WHICH in ('run', 'build') and flags.FULL_REFRESH -%}
        {%- for result in results if result.status == 'success' and 'watermarked' in result.node.tags -%}
            {%- do rebuilt.append(adapter.quote(result.node.schema) ~ '.' ~ adapter.quote(result.node.alias)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rebuilt -%}
        analyze {{ rebuilt | join(', ') }}
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}

{# Per-build settings: sorts of a few hundred thousand rows stay in memory; no JIT start-up. #}
{% macro session_settings() %}
    set local work_mem = '128MB';
    set local jit = off
{% endmacro %}
