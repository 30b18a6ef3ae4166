-- Grain: one row per (tz, event_type, property, event_date, has_value, property_value):
-- events and distinct users of an event type that local day with that breakdown value
-- (has_value false: the property was missing or null). /stats/trends ranks values and reads
-- day rows from here.
-- Incremental: every (tz, event_type, local day) touched by newly loaded events is recomputed
-- from int_user_property_days, for every configured property (delete+insert on that key).
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key=['tz', 'event_type', 'event_date'],
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
affected_days as (
    select distinct
        new_days.tz,
        new_days.event_type,
        new_days.event_date
    from ({{ zoned_events('loaded_at >= ' ~ window_start()) }}) as new_days
),

scoped as (
    select user_days.*
    from affected_days
    cross join {{ properties_relation() }}
    inner join {{ ref('int_user_property_days') }} as user_days
        on
            affected_days.tz = user_days.tz
            and affected_days.event_type = user_days.event_type
            and breakdown.property = user_days.property
            and affected_days.event_date = user_days.event_date
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
