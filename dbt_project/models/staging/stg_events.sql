-- One row per stored event, with its UTC calendar date. The only model that reads the source.
with source as (
    select * from {{ source('raw', 'events') }}
),

final as (
    select
        event_id,
        user_id,
        event_type,
        occurred_at,
        properties,
        {{ utc_date('occurred_at') }} as event_date,
        loaded_at
    from source
)

select * from final
