-- Grain: one row per (tz, local date) with at least one event (the read API zero-fills the rest).
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key=['tz', 'event_date'],
    indexes=[{'columns': ['tz', 'event_date'], 'unique': True}],
) }}

with

{{ scoped_to_affected_days(ref('int_user_days'), new_event_days()) }}

final as (
    select
        tz,
        event_date,
        count(*) as active_users,
        sum(events)::bigint as events,
        max(loaded_at) as loaded_through
    from scoped
    group by tz, event_date
)

select * from final
