-- Event types in the range by events, then name by code point. A user counts once per type:
-- on the first day in the range whose previous day with that type lies before the range.
select
    event_type,
    sum(events)::bigint as events,
    coalesce(
        sum(active_users) filter (
            where previous_event_date is null or previous_event_date < %(date_from)s::date
        ),
        0
    )::bigint as active_users
from marts.fct_event_type_reach
where event_date between %(date_from)s::date and %(date_to)s::date
group by event_type
order by events desc, event_type collate "C" asc
limit %(row_limit)s
