-- One row per stored event, with its UTC calendar date (the zoned models compute local dates
-- themselves: macros/affected_days.sql, `zoned_events`). The only model that reads the source.
with source as (
    select * from {{ source('raw', 'events') }}
),

final as (
    select
        event_id,
        user_id,
        event_type,
        occurred_at,
        {{ utc_date('occurred_at') }} as event_date,
        properties,
        loaded_at
    from source
)

select * from final
