-- /stats/trends (docs/api.md#trends): per local day of zone %(tz)s, events and distinct users
-- of %(event_type)s for each of the top %(top)s values of breakdown property %(property)s over
-- the range (by events, then value by code point), for the other values together, and for the
-- events without the property. Rows: (date, bucket, rank, value, events, users); days without
-- events are left out (the API fills them). The distinct users of the other values are counted
-- from the user rows of those values only (the index seeks each value's days).
with day_values as (
    select
        event_date,
        has_value,
        property_value,
        events,
        active_users
    from marts.fct_daily_property_values
    where
        tz = %(tz)s
        and event_type = %(event_type)s
        and property = %(property)s
        and event_date between %(date_from)s::date and %(date_to)s::date
),

top_values as (
    select
        property_value,
        row_number() over (
            order by sum(events) desc, property_value collate "C" asc
        ) as value_rank
    from day_values
    where has_value
    group by property_value
    order by value_rank
    limit %(top)s
),

ranked_days as (
    select
        day_values.event_date,
        day_values.has_value,
        day_values.property_value,
        day_values.events,
        day_values.active_users,
        top_values.value_rank
    from day_values
    left join top_values
        on
            day_values.has_value
            and day_values.property_value = top_values.property_value
),

other_days as (
    select
        event_date,
        sum(events)::bigint as events
    from ranked_days
    where has_value and value_rank is null
    group by event_date
),

other_values as (
    select distinct ranked_days.property_value
    from ranked_days
    where ranked_days.has_value and ranked_days.value_rank is null
),

user_rows as (
    select
        event_date,
        property_value,
        user_id
    from intermediate.int_user_property_days
    where
        tz = %(tz)s
        and event_type = %(event_type)s
        and property = %(property)s
        and has_value
        and event_date between %(date_from)s::date and %(date_to)s::date
),

other_users as (
    select
        user_rows.event_date,
        count(distinct user_rows.user_id) as active_users
    from other_values
    inner join user_rows on other_values.property_value = user_rows.property_value
    group by user_rows.event_date
)

select
    event_date,
    'value' as bucket,
    value_rank,
    property_value,
    events,
    active_users
from ranked_days
where value_rank is not null
union all
select
    event_date,
    'none' as bucket,
    null as value_rank,
    null as property_value,
    events,
    active_users
from ranked_days
where not has_value
union all
select
    other_days.event_date,
    'other' as bucket,
    null as value_rank,
    null as property_value,
    other_days.events,
    coalesce(other_users.active_users, 0) as active_users
from other_days
left join other_users on other_days.event_date = other_users.event_date
