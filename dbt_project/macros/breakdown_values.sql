{#
  Breakdown values of event properties (/stats/trends, docs/api.md#trends), one rule for every
  model that reads them:
    - a JSON string is its text; a number or boolean its JSON text (12, 1.5, true: PostgreSQL's
      jsonb text, so a number keeps the digits it was sent with, 1.50 stays 1.50);
    - an object or array is its jsonb text (keys ordered by length, then bytes; `, ` and `: `
      between items);
    - a missing key or a JSON null has no value (`has_value` false, `value` ''), which the read
      API reports as the `$none` row: a real value spelled "$none" or "$other" stays a value;
    - every value is cut to its first `breakdown_value_length()` characters.
#}

{# Characters kept of a breakdown value; documented in docs/api.md#trends. #}
{% macro breakdown_value_length() -%}
    {{- return(200) -}}
{%- endmacro %}

{# A relation of the configured breakdown properties, one row each, giving `property`. #}
{% macro properties_relation() -%}
    {%- set names = breakdown_properties() -%}
    {%- if names -%}
    (
        values
        {%- for name in names %}
            ({{ "'" ~ name | replace("'", "''") ~ "'" }}::text){{ "," if not loop.last }}
        {%- endfor %}
    ) as breakdown (property)
    {%- else -%}
    (select null::text as property where false) as breakdown
    {%- endif -%}
{%- endmacro %}

{# True when the jsonb `json_expression` (a property looked up with ->) holds a value. #}
{% macro breakdown_has_value(json_expression) -%}
    coalesce(jsonb_typeof({{ json_expression }}), 'null') <> 'null'
{%- endmacro %}

{# The breakdown value of a jsonb property value: its text, cut; '' when it has none. #}
{% macro breakdown_value(json_expression) -%}
    case jsonb_typeof({{ json_expression }})
        when 'string' then left(({{ json_expression }}) #>> '{}', {{ breakdown_value_length() }})
        when 'null' then ''
        else coalesce(left(({{ json_expression }})::text, {{ breakdown_value_length() }}), '')
    end
{%- endmacro %}

{#
  The breakdown columns of the events aliased `events` cross joined with
  `properties_relation()`: `property`, `has_value`, `property_value`.
#}
{% macro breakdown_columns(events) -%}
    breakdown.property,
        {{ breakdown_has_value(events ~ '.properties -> breakdown.property') }} as has_value,
        {{ breakdown_value(events ~ '.properties -> breakdown.property') }} as property_value
{%- endmacro %}

{# The key columns of the breakdown models, in their grain's order. #}
{% macro breakdown_keys(with_user=true) -%}
    {%- set keys = ['tz', 'event_type', 'property', 'has_value', 'property_value', 'event_date'] -%}
    {{- return(keys + (['user_id'] if with_user else [])) -}}
{%- endmacro %}

{# `left.k = right.k and ...` over `keys`: a join on a breakdown model's whole key. #}
{% macro same_keys(left, right, keys) -%}
    {%- for key in keys %}
            {{ 'and ' if not loop.first }}{{ left }}.{{ key }} = {{ right }}.{{ key }}
    {%- endfor %}
{%- endmacro %}
