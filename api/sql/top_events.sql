-- Event types in the range (local dates of zone tz) by events, then name by code point, with
-- distinct users.
-- Distinct users of a type = its user-days in the range minus the user-days whose previous
-- day with that type is also in the range (each user is then counted once, on their first
-- day in the range); the second sum reads only rows with a previous day in the range.
with day_totals as (
    select
        event_type,
        sum(events) as events,
        sum(active_users) as user_days
    from marts.fct_daily_event_types
    where
        tz = %(tz)s
        and event_date between %(date_from)s::date and %(date_to)s::date
    group by event_type
),

returning_days as (
    select
        event_type,
        sum(active_users) as user_days
    from marts.fct_event_type_reach
    where
        tz = %(tz)s
        and previous_event_date >= %(date_from)s::date
        and previous_event_date < %(date_to)s::date
        and event_date <= %(date_to)s::date
    group by event_type
),

ranked as (
    select
        day_totals.event_type,
        day_totals.events::bigint as events,
        (day_totals.user_days - coalesce(returning_days.user_days, 0))::bigint as active_users
    from day_totals
    left join returning_days on day_totals.event_type = returning_days.event_type
)

select
    event_type,
    events,
    active_users
from ranked
order by events desc, event_type collate "C" asc
limit %(row_limit)s
