-- Retained users per daily cohort of zone tz in the range and day offset 0..periods (sparse).
select
    cohort_date as cohort,
    period_offset,
    retained_users
from marts.fct_retention_daily
where
    tz = %(tz)s
    and cohort_date between %(date_from)s::date and %(date_to)s::date
    and period_offset <= %(periods)s
order by cohort_date, period_offset
