-- Grain: one row per (tz, event_type, property, event_date, has_value, property_value):
-- events and distinct users of an event type that local day with that breakdown value
-- (has_value false: the property was missing or null). /stats/trends ranks values and reads
-- day rows from here.
-- Incremental: every row whose key newly loaded events touch is recomputed from the
-- int_user_property_days rows of that key (delete+insert on the grain), so the work follows
-- the new rows' distinct (zone, type, property, value, local day) keys.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key=['tz', 'event_type', 'property', 'event_date', 'has_value', 'property_value'],
    indexes=[
        {
            'columns': [
                'tz', 'event_type', 'property', 'event_date', 'has_value', 'property_value'
            ],
            'unique': True,
        },
    ],
) }}

with

{% if is_incremental() %}
affected_keys as (
    select distinct
        new_days.tz,
        new_days.event_type,
        new_days.event_date,
        {{ breakdown_columns('new_days') }}
    from ({{ zoned_events('loaded_at >= ' ~ window_start()) }}) as new_days
    cross join {{ properties_relation() }}
),

scoped as (
    select user_days.*
    from affected_keys
    inner join {{ ref('int_user_property_days') }} as user_days
        on {{ same_keys('affected_keys', 'user_days', breakdown_keys(with_user=false)) }}
),
{% else %}
scoped as (
    select * from {{ ref('int_user_property_days') }}
),
{% endif %}

final as (
    select
        tz,
        event_type,
        property,
        event_date,
        has_value,
        property_value,
        sum(events)::bigint as events,
        count(*) as active_users
    from scoped
    group by tz, event_type, property, event_date, has_value, property_value
)

select * from final
