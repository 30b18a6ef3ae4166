-- Retained users per weekly cohort (ISO weeks by Monday) in the range and offset 0..periods.
select
    cohort_week as cohort,
    period_offset,
    retained_users
from marts.fct_retention_weekly
where
    cohort_week between %(date_from)s::date and %(date_to)s::date
    and period_offset <= %(periods)s
order by cohort_week, period_offset
