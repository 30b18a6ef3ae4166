{#
  The reporting settings the models are built for, from the same environment variables the
  service reads (core/settings.py; jobs/refresh.py passes them to dbt explicitly):
    EVENTMART_TIMEZONES             IANA zones, comma-separated; default UTC
    EVENTMART_BREAKDOWN_PROPERTIES  event properties /stats/trends may break down by
#}

{% macro comma_list(text) -%}
    {%- set items = [] -%}
    {%- for part in text.split(',') if part.strip() -%}
        {%- do items.append(part.strip()) -%}
    {%- endfor -%}
    {{ return(items) }}
{%- endmacro %}

{# The configured reporting zones, in order (the first is the read API's default). #}
{% macro reporting_zones() -%}
    {{ return(comma_list(env_var('EVENTMART_TIMEZONES', 'UTC'))) }}
{%- endmacro %}

{# The properties /stats/trends may break down by. #}
{% macro breakdown_properties() -%}
    {{ return(comma_list(env_var('EVENTMART_BREAKDOWN_PROPERTIES', '$browser,utm_source,path'))) }}
{%- endmacro %}

{# A relation of the zones, one row each: `select ... from {{ zones_relation() }}` gives `tz`. #}
{% macro zones_relation() -%}
    (
        values
        {%- for zone in reporting_zones() %}
            ({{ zone_literal(zone) }}::text){{ "," if not loop.last }}
        {%- endfor %}
    ) as zones (tz)
{%- endmacro %}

{# The local calendar date in zone `tz_expression` (a column or literal) of a timestamptz. #}
{% macro local_date(timestamp_expression, tz_expression) -%}
    (({{ timestamp_expression }}) at time zone {{ tz_expression }})::date
{%- endmacro %}

{# The configured zones as SQL string literals, comma-separated (for `tz in (...)`). #}
{% macro zone_literals() -%}
    {%- for zone in reporting_zones() -%}
        {{ zone_literal(zone) }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{# One zone name as an SQL string literal. #}
{% macro zone_literal(zone) -%}
    {{- "'" ~ zone | replace("'", "''") ~ "'" -}}
{%- endmacro %}
