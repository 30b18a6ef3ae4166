{#
  Every raw row once per reporting zone, with `tz` and the LOCAL calendar date of occurred_at
  in that zone as `event_date` (macros/reporting.sql): what every zoned model counts.
  `where_sql` filters the staged rows (e.g. by loaded_at).
#}
{% macro zoned_events(where_sql) -%}
    select
        zones.tz,
        zoned_source.event_id,
        zoned_source.user_id,
        zoned_source.event_type,
        zoned_source.occurred_at,
        {{ local_date('zoned_source.occurred_at', 'zones.tz') }} as event_date,
        zoned_source.properties,
        zoned_source.loaded_at
    from {{ ref('stg_events') }} as zoned_source
    cross join {{ zones_relation() }}
    where {{ where_sql }}
{%- endmacro %}

{# (tz, local date) of the events loaded since this model's watermark (the days to recompute). #}
{% macro new_event_days() -%}
    select distinct
        new_days.tz,
        new_days.event_date
    from ({{ zoned_events('loaded_at >= ' ~ window_start()) }}) as new_days
{%- endmacro %}

{#
  Rows of a model whose (tz, date column) is one of the given (tz, event_date) days, through
  the model's (tz, date) index (the configured zones and one date range covering the days,
  then only the days asked for).
#}
{% macro rows_on_days(relation, date_column, days_relation) -%}
    select rows_on_days.*
    from {{ relation }} as rows_on_days
    where
        rows_on_days.tz in ({{ zone_literals() }})
        and rows_on_days.{{ date_column }} >= (select min(d.event_date) from {{ days_relation }} as d)
        and rows_on_days.{{ date_column }} <= (select max(d.event_date) from {{ days_relation }} as d)
        and (rows_on_days.tz, rows_on_days.{{ date_column }}) in (
            select
                d.tz,
                d.event_date
            from {{ days_relation }} as d
        )
{%- endmacro %}

{#
  The CTEs a day-keyed mart reads from (leading `with` not included, trailing comma included):
  `scoped`, the rows of `relation` on the (tz, event_date) days `affected_days_sql` selects in
  an incremental run (as `affected_days`), or every row of it in a full build.
#}
{% macro scoped_to_affected_days(relation, affected_days_sql) -%}
    {%- if is_incremental() -%}
affected_days as (
    {{ affected_days_sql }}
),

scoped as (
    {{ rows_on_days(relation, 'event_date', 'affected_days') }}
),
    {%- else -%}
scoped as (
    select * from {{ relation }}
),
    {%- endif -%}
{%- endmacro %}

{#
  The CTEs `new_events` (exactly the raw rows this build reads, `loaded_window`, once per
  zone) and `counted`: their events and latest loaded_at per `keys` (leading `with` not
  included).
#}
{% macro new_event_counts(keys) -%}
new_events as (
    {{ zoned_events(loaded_window()) }}
),

counted as (
    select
        {{ keys | join(',\n        ') }},
        count(*) as events,
        max(loaded_at) as loaded_at
    from new_events
    group by {{ keys | join(', ') }}
)
{%- endmacro %}
