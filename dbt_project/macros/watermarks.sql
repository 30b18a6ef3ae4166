{#
  Incremental bookkeeping, one row per incremental model in marts.refresh_watermarks.

  `safe_from`: every raw row with loaded_at < safe_from is already included in the model.
  A refresh re-reads raw rows with loaded_at >= safe_from - lookback, recomputes what they touch
  and then moves safe_from forward. The new value is captured in the pre-hook, before the model's
  own query takes its snapshot, and is the earliest of:
    - now,
    - the start of the oldest write transaction still open (its rows are not visible yet, and
      their loaded_at is later than its start), and
    - the watermarks of the model's upstream models (a mart must not move past what the
      intermediate models it reads already contain).
  Pre-hook, model and post-hook run in one transaction, so a failed build moves nothing.
#}

{% macro watermark_table() -%}
    marts.refresh_watermarks
{%- endmacro %}

{% macro create_refresh_state() %}
    create schema if not exists marts;
    create table if not exists {{ watermark_table() }} (
        model_name text primary key,
        safe_from timestamptz,
        pending_safe_from timestamptz
    );
    create table if not exists marts.refresh_status (
        id integer primary key default 1 check (id = 1),
        refreshed_at timestamptz not null,
        loaded_through timestamptz
    );
{% endmacro %}

{% macro capture_watermark() %}
    {%- set upstream = [] -%}
    {%- for node_id in model.depends_on.nodes if node_id.startswith('model.') -%}
        {%- do upstream.append(node_id.split('.')[-1]) -%}
    {%- endfor -%}
    insert into {{ watermark_table() }} as w (model_name, pending_safe_from)
    select
        '{{ this.name }}',
        least(
            clock_timestamp(),
            (
                select min(a.xact_start) from pg_stat_activity as a
                where
                    a.backend_xid is not null
                    and a.pid <> pg_backend_pid()
                    and a.datname = current_database()
            ),
            (
                select min(u.safe_from) from {{ watermark_table() }} as u
                where u.model_name in ('{{ upstream | join("', '") }}')
            )
        )
    on conflict (model_name) do update set pending_safe_from = excluded.pending_safe_from
{% endmacro %}

{% macro advance_watermark() %}
    update {{ watermark_table() }}
    set safe_from = pending_safe_from
    where model_name = '{{ this.name }}'
{% endmacro %}

{#
  The earliest loaded_at an incremental run of this model must look at. Without the lookback
  for times set inside dbt builds (updated_at), which the refresh lock already serializes.
#}
{% macro window_start(lookback=true) -%}
    (
        select
            coalesce(max(w.safe_from), '-infinity'::timestamptz)
            - interval '{{ (var("lookback_seconds") | int) if lookback else 0 }} seconds'
        from {{ watermark_table() }} as w
        where w.model_name = '{{ this.name }}'
    )
{%- endmacro %}

{# Record the end of a successful `dbt run`/`dbt build` for the read API's meta. #}
{% macro record_refresh(results) %}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped']) | list -%}
        {%- set built = results | selectattr('node.name', 'equalto', 'fct_daily_active_users') | list -%}
        {%- if failed | length == 0 and built | length > 0 -%}
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

{# Per-build settings: sorts of a few hundred thousand rows stay in memory; no JIT start-up. #}
{% macro session_settings() %}
    set local work_mem = '128MB';
    set local jit = off
{% endmacro %}
