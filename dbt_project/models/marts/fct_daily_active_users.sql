-- Grain: one row per UTC date with at least one event (the read API zero-fills the rest).
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key='event_date',
    indexes=[{'columns': ['event_date'], 'unique': True}],
) }}

with

{{ scoped_to_affected_days(ref('int_user_days'), new_event_days(ref('stg_events'))) }}

final as (
    select
        event_date,
        count(*) as active_users,
        sum(events)::bigint as events,
        max(loaded_at) as loaded_through
    from scoped
    group by event_date
)

select * from final
