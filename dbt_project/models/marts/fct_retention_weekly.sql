-- Grain: one row per (tz, cohort_week, activity_week) with at least one retained user; weeks
-- start on the local Monday (ISO weeks of the local dates in zone tz), labelled by it.
-- Incremental: every affected (tz, activity week) is recomputed.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key=['tz', 'activity_week'],
    indexes=[
        {'columns': ['tz', 'cohort_week', 'period_offset'], 'unique': True},
        {'columns': ['tz', 'activity_week']},
    ],
) }}

-- every day of every affected week, per zone
{% set affected_week_days -%}
    select distinct
        weeks.tz,
        (weeks.activity_week + day_of_week.n)::date as event_date
    from (
        select distinct
            touched.tz,
            {{ iso_week('touched.event_date') }} as activity_week
        from ({{ retention_affected_days() }}) as touched
    ) as weeks
    cross join generate_series(0, 6) as day_of_week (n)
{%- endset %}

with first_seen as (
    select * from {{ ref('int_user_first_seen') }}
),

{{ scoped_to_affected_days(ref('int_user_days'), affected_week_days) }}

user_weeks as (
    select distinct
        tz,
        user_id,
        {{ iso_week('event_date') }} as activity_week
    from scoped
),

final as (
    select
        user_weeks.tz,
        first_seen.cohort_week,
        user_weeks.activity_week,
        (user_weeks.activity_week - first_seen.cohort_week) / 7 as period_offset,
        count(*) as retained_users
    from user_weeks
    inner join first_seen
        on
            user_weeks.tz = first_seen.tz
            and user_weeks.user_id = first_seen.user_id
    group by user_weeks.tz, first_seen.cohort_week, user_weeks.activity_week
)

select * from final
