-- Grain: one row per (cohort_date, activity_date) with at least one retained user.
-- A user's cohort is the UTC date of their first-ever event; period_offset = days since.
-- Incremental: every affected activity day is recomputed for all cohorts.
-- depends_on: {{ ref('stg_events') }}
{{ config(
    unique_key='activity_date',
    indexes=[
        {'columns': ['cohort_date', 'period_offset'], 'unique': True},
        {'columns': ['activity_date']},
    ],
) }}

with first_seen as (
    select * from {{ ref('int_user_first_seen') }}
),

{{ scoped_to_affected_days(ref('int_user_days'), retention_affected_days()) }}

final as (
    select
        first_seen.cohort_date,
        scoped.event_date as activity_date,
        scoped.event_date - first_seen.cohort_date as period_offset,
        count(*) as retained_users
    from scoped
    inner join first_seen on scoped.user_id = first_seen.user_id
    group by first_seen.cohort_date, scoped.event_date
)

select * from final
