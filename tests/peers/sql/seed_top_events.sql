-- The seed's design: event types in the range from raw.events per request.
select
    event_type,
    count(*) as events,
    count(distinct user_id) as active_users
from raw.events
where
    occurred_at >= (%(date_from)s::date)::timestamp at time zone 'UTC'
    and occurred_at < (%(date_to)s::date + 1)::timestamp at time zone 'UTC'
group by event_type
order by events desc, event_type collate "C" asc
limit %(row_limit)s
