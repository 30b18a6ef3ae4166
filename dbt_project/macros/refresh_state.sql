{#
  A bookkeeping model (models/refresh_state): one row per `key`, written only by hooks, never
  by its query, which gives the table its columns on the first build and adds nothing later.
#}
{% macro empty_state_table(key, columns) -%}
    {{ config(unique_key=key, indexes=[{'columns': [key], 'unique': True}]) }}
with final as (
    select
    {%- for name, type in columns.items() %}
        null::{{ type }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
)

select * from final
where false
{%- endmacro %}
