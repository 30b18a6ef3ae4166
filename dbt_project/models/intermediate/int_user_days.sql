-- Grain: one row per (event_date, user_id) with at least one event that UTC day.
-- Incremental: the raw rows loaded since the last build (exactly those: macros/watermarks.sql)
-- are counted by (event_date, user_id) and added to the stored rows of those keys, so the
-- work follows the number of new events, late or not, never the size of the days they touch.
-- A full build writes the rows in event_date order: the marts read whole days back.
{{ config(
    unique_key=['event_date', 'user_id'],
    indexes=[
        {'columns': ['event_date', 'user_id'], 'unique': True},
        {'columns': ['user_id']},
    ],
) }}

with

{{ new_event_counts(['event_date', 'user_id']) }},

{% if is_incremental() %}
final as (
    select
        counted.event_date,
        counted.user_id,
        counted.events + coalesce(stored_rows.events, 0) as events,
        greatest(counted.loaded_at, stored_rows.loaded_at) as loaded_at
    from counted
    left join {{ this }} as stored_rows
        on
            counted.event_date = stored_rows.event_date
            and counted.user_id = stored_rows.user_id
)
{% else %}
final as (
    select * from counted
    order by event_date
)
{% endif %}

select * from final
