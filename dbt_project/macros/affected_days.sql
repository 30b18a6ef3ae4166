{# UTC dates of the events loaded since this model's watermark (the days to recompute). #}
{% macro new_event_days(events_relation) -%}
    select distinct event_date
    from {{ events_relation }}
    where loaded_at >= {{ window_start() }}
{%- endmacro %}

{#
  The events that occurred on the given days: one occurred_at range (an index range scan
  when the days are recent, a sequential scan when late events span the history), then
  only the days asked for.
#}
{% macro events_on_days(events_relation, days_relation) -%}
    select events.*
    from {{ events_relation }} as events
    where
        events.occurred_at >= (
            select {{ utc_midnight('min(days.event_date)') }} from {{ days_relation }} as days
        )
        and events.occurred_at < (
            select {{ utc_midnight('max(days.event_date) + 1') }} from {{ days_relation }} as days
        )
        and events.event_date in (select days.event_date from {{ days_relation }} as days)
{%- endmacro %}
