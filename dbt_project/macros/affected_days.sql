{# UTC dates of the events loaded since this model's watermark (the days to recompute). #}
{% macro new_event_days(events_relation) -%}
    select distinct event_date
    from {{ events_relation }}
    where loaded_at >= {{ window_start() }}
{%- endmacro %}

{# The events that occurred on the given days, found through the occurred_at index. #}
{% macro events_on_days(events_relation, days_relation) -%}
    select events.*
    from {{ days_relation }} as days
    inner join {{ events_relation }} as events
        on
            events.occurred_at >= {{ utc_midnight('days.event_date') }}
            and events.occurred_at < {{ utc_midnight('days.event_date + 1') }}
{%- endmacro %}
