{# The UTC calendar date of a timestamptz. #}
{% macro utc_date(timestamp_expression) -%}
    (({{ timestamp_expression }}) at time zone 'UTC')::date
{%- endmacro %}

{# The Monday (ISO week start) of a date. #}
{% macro iso_week(date_expression) -%}
    date_trunc('week', ({{ date_expression }})::timestamp)::date
{%- endmacro %}
