{# UTC dates of the events loaded since this model's watermark (the days to recompute). #}
{% macro new_event_days(events_relation) -%}
    select distinct event_date
    from {{ events_relation }}
    where loaded_at >= {{ window_start() }}
{%- endmacro %}

{#
  Rows of a model whose date column is one of the given days, through the model's date index
  (one range covering the days, then only the days asked for).
#}
{% macro rows_on_days(relation, date_column, days_relation) -%}
    select rows_on_days.*
    from {{ relation }} as rows_on_days
    where
        rows_on_days.{{ date_column }} >= (select min(d.event_date) from {{ days_relation }} as d)
        and rows_on_days.{{ date_column }} <= (select max(d.event_date) from {{ days_relation }} as d)
        and rows_on_days.{{ date_column }} in (select d.event_date from {{ days_relation }} as d)
{%- endmacro %}

{#
  The CTEs a day-keyed mart reads from (leading `with` not included, trailing comma included):
  `scoped`, the rows of `relation` on the days `affected_days_sql` selects in an incremental
  run (as `affected_days`), or every row of it in a full build.
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
  The CTEs `new_events` (exactly the raw rows this build reads, `loaded_window`) and
  `counted`: their events and latest loaded_at per `keys` (leading `with` not included).
#}
{% macro new_event_counts(keys) -%}
new_events as (
    select * from {{ ref('stg_events') }}
    where {{ loaded_window() }}
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
