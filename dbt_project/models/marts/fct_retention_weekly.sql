-- Grain: one row per (cohort_week, activity_week) with at least one retained user; weeks are
-- ISO weeks labelled by their Monday. Incremental: every affected activity week is recomputed.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key='activity_week',
    indexes=[
        {'columns': ['cohort_week', 'period_offset'], 'unique': True},
        {'columns': ['activity_week']},
    ],
) }}

-- every day of every affected ISO week
{% set affected_week_days -%}
    select distinct (weeks.activity_week + day_of_week.n)::date as event_date
    from (
        select distinct {{ iso_week('event_date') }} as activity_week
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
        user_id,
        {{ iso_week('event_date') }} as activity_week
    from scoped
),

final as (
    select
        first_seen.cohort_week,
        user_weeks.activity_week,
        (user_weeks.activity_week - first_seen.cohort_week) / 7 as period_offset,
        count(*) as retained_users
    from user_weeks
    inner join first_seen on user_weeks.user_id = first_seen.user_id
    group by first_seen.cohort_week, user_weeks.activity_week
)

select * from final
