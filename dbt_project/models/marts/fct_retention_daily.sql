-- Grain: one row per (tz, cohort_date, activity_date) with at least one retained user.
-- A user's cohort is the local date (in zone tz) of their first-ever event; period_offset =
-- days since. Incremental: every affected (tz, activity day) is recomputed for all cohorts.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key=['tz', 'activity_date'],
    indexes=[
        {'columns': ['tz', 'cohort_date', 'period_offset'], 'unique': True},
        {'columns': ['tz', 'activity_date']},
    ],
) }}

with first_seen as (
    select * from {{ ref('int_user_first_seen') }}
),

{{ scoped_to_affected_days(ref('int_user_days'), retention_affected_days()) }}

final as (
    select
        scoped.tz,
        first_seen.cohort_date,
        scoped.event_date as activity_date,
        scoped.event_date - first_seen.cohort_date as period_offset,
        count(*) as retained_users
    from scoped
    inner join first_seen
        on
            scoped.tz = first_seen.tz
            and scoped.user_id = first_seen.user_id
    group by scoped.tz, first_seen.cohort_date, scoped.event_date
)

select * from final
