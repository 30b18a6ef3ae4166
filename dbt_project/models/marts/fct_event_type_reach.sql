-- Grain: one row per (tz, event_date, event_type, previous_event_date) (the last may be null).
-- active_users: users active with that type that local day whose previous such day was
-- previous_event_date.
-- Distinct users of a type over [from, to] = its user-days in the range minus the rows with
-- from <= previous_event_date and event_date <= to (a user's later days in the range).
{{ config(
    unique_key=['tz', 'event_date'],
    indexes=[
        {'columns': ['tz', 'event_date', 'event_type', 'previous_event_date'], 'unique': True},
        {'columns': ['tz', 'previous_event_date', 'event_date']},
    ],
) }}

-- days with a (type, user) row that is new or whose previous day changed
{% set changed_days -%}
    select distinct
        tz,
        event_date
    from {{ ref('int_user_event_type_days') }}
    where updated_at >= {{ window_start() }}
{%- endset %}

with

{{ scoped_to_affected_days(ref('int_user_event_type_days'), changed_days) }}

final as (
    select
        tz,
        event_date,
        event_type,
        previous_event_date,
        count(*) as active_users,
        sum(events)::bigint as events
    from scoped
    group by tz, event_date, event_type, previous_event_date
)

select * from final
