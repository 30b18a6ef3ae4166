-- Grain: one row per (tz, event_date, event_type): events and distinct users that local day.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key=['tz', 'event_date'],
    indexes=[{'columns': ['tz', 'event_date', 'event_type'], 'unique': True}],
) }}

with

{{ scoped_to_affected_days(ref('int_user_event_type_days'), new_event_days()) }}

final as (
    select
        tz,
        event_date,
        event_type,
        sum(events)::bigint as events,
        count(*) as active_users
    from scoped
    group by tz, event_date, event_type
)

select * from final
