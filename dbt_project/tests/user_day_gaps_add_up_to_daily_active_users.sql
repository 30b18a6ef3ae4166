-- Every (tz, day) of fct_user_day_gaps adds up to that day's active users, and no day is
-- missing on either side. Returns the days that disagree.
with gap_totals as (
    select
        tz,
        event_date,
        sum(active_users) as active_users
    from {{ ref('fct_user_day_gaps') }}
    group by tz, event_date
)

select
    coalesce(gap_totals.tz, daily.tz) as tz,
    coalesce(gap_totals.event_date, daily.event_date) as event_date,
    gap_totals.active_users as gap_users,
    daily.active_users as daily_users
from gap_totals
full outer join {{ ref('fct_daily_active_users') }} as daily
    on
        gap_totals.tz = daily.tz
        and gap_totals.event_date = daily.event_date
where gap_totals.active_users is distinct from daily.active_users
