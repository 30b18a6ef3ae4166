-- Grain: one row per (event_date, event_type): events and distinct users that UTC day.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key='event_date',
    indexes=[{'columns': ['event_date', 'event_type'], 'unique': True}],
) }}

with

{{ scoped_to_affected_days(ref('int_user_event_type_days'), new_event_days(ref('stg_events'))) }}

final as (
    select
        event_date,
        event_type,
        sum(events)::bigint as events,
        count(*) as active_users
    from scoped
    group by event_date, event_type
)

select * from final
