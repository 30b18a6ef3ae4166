-- Grain: one row per (tz, event_date, days_since_previous): users active that local day, by
-- the days since their previous active day in that zone, capped at 31 (31: 31 days or more,
-- or the user's first day).
-- A user-day counts in the window [d - w + 1, d] (the users active in the w days ending d)
-- exactly once when it lies in the window and days_since_previous > event_date - (d - w + 1),
-- i.e. the user's previous active day lies before the window; so any window of up to 30
-- days ending on any day, events or not, is a sum over at most 30 x 31 rows
-- (api/sql/active_users.sql).
-- Incremental: the days with an int_user_days row that is new or whose previous day changed
-- (updated_at since the watermark: a late day rewrites the user's next day) are recomputed.
{{ config(
    unique_key=['tz', 'event_date'],
    indexes=[
        {'columns': ['tz', 'event_date', 'days_since_previous'], 'unique': True},
    ],
) }}

{% set changed_days -%}
    select distinct
        changed_rows.tz,
        changed_rows.event_date
    from {{ ref('int_user_days') }} as changed_rows
    where changed_rows.updated_at >= {{ window_start() }}
{%- endset %}

with

{{ scoped_to_affected_days(ref('int_user_days'), changed_days) }}

final as (
    select
        tz,
        event_date,
        least(coalesce(event_date - previous_event_date, 31), 31) as days_since_previous,
        count(*) as active_users
    from scoped
    group by tz, event_date, least(coalesce(event_date - previous_event_date, 31), 31)
)

select * from final
