-- Retained users per weekly cohort (local weeks from Monday) of zone tz in the range and
-- offset 0..periods.
select
    cohort_week as cohort,
    period_offset,
    retained_users
from marts.fct_retention_weekly
where
    tz = %(tz)s
    and cohort_week between %(date_from)s::date and %(date_to)s::date
    and period_offset <= %(periods)s
order by cohort_week, period_offset
