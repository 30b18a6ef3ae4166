-- Grain: one row per (event_date, user_id) with at least one event that UTC day.
-- Incremental: every day touched by newly loaded events is recomputed in full.
{{ config(
    unique_key='event_date',
    indexes=[
        {'columns': ['event_date', 'user_id'], 'unique': True},
        {'columns': ['user_id']},
    ],
) }}

with events as (
    select * from {{ ref('stg_events') }}
),

{% if is_incremental() %}
affected_days as (
    {{ new_event_days(ref('stg_events')) }}
),

scoped_events as (
    {{ events_on_days(ref('stg_events'), 'affected_days') }}
),
{% else %}
scoped_events as (
    select * from events
),
{% endif %}

final as (
    select
        event_date,
        user_id,
        count(*) as events,
        max(loaded_at) as loaded_at
    from scoped_events
    group by event_date, user_id
)

select * from final
