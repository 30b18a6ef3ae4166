{# The timestamptz at which a UTC calendar date starts, whatever the session time zone. #}
{% macro utc_midnight(date_expression) -%}
    (({{ date_expression }})::timestamp at time zone 'UTC')
{%- endmacro %}

{# The UTC calendar date of a timestamptz. #}
{% macro utc_date(timestamp_expression) -%}
    (({{ timestamp_expression }}) at time zone 'UTC')::date
{%- endmacro %}

{# The Monday (ISO week start) of a date. #}
{% macro iso_week(date_expression) -%}
    date_trunc('week', ({{ date_expression }})::timestamp)::date
{%- endmacro %}
