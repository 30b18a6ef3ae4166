-- Grain: one row per (tz, event_type, property, event_date, has_value, property_value,
-- user_id) with at least one such event: for every reporting zone and every configured
-- breakdown property (EVENTMART_BREAKDOWN_PROPERTIES), the user's events of a type on a local
-- day with that property value (macros/breakdown_values.sql; has_value false: the key is
-- missing or null).
-- Each event counts once per zone and property. /stats/trends reads it for the distinct users
-- of the values outside the top ten (`$other`), exact per day.
-- Incremental: the raw rows loaded since the last build (exactly those: macros/watermarks.sql)
-- are counted per key and added to the stored rows of those keys, so the work follows the
-- number of new events. The unique index leads with (tz, event_type, property, value): the
-- mart and the read seek one value's days. A full build writes the rows in event_date order
-- (sorting by the text keys instead would cost more than the whole aggregation).
{{ config(
    unique_key=[
        'tz', 'event_type', 'property', 'has_value', 'property_value', 'event_date', 'user_id'
    ],
    indexes=[
        {
            'columns': [
                'tz', 'event_type', 'property', 'has_value', 'property_value', 'event_date',
                'user_id',
            ],
            'unique': True,
        },
    ],
) }}

with

new_events as (
    {{ zoned_events(loaded_window()) }}
),

picked as (
    select
        new_events.tz,
        new_events.event_type,
        new_events.event_date,
        new_events.user_id,
        new_events.loaded_at,
        {{ breakdown_columns('new_events') }}
    from new_events
    cross join {{ properties_relation() }}
),

counted as (
    select
        tz,
        event_type,
        property,
        event_date,
        has_value,
        property_value,
        user_id,
        count(*) as events,
        max(loaded_at) as loaded_at
    from picked
    group by tz, event_type, property, event_date, has_value, property_value, user_id
),

{% if is_incremental() %}
final as (
    select
        counted.tz,
        counted.event_type,
        counted.property,
        counted.event_date,
        counted.has_value,
        counted.property_value,
        counted.user_id,
        counted.events + coalesce(stored_rows.events, 0) as events,
        greatest(counted.loaded_at, stored_rows.loaded_at) as loaded_at
    from counted
    left join {{ this }} as stored_rows
        on {{ same_keys('counted', 'stored_rows', breakdown_keys()) }}
)
{% else %}
final as (
    select * from counted
    order by event_date
)
{% endif %}

select * from final
