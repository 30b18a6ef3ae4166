-- The seed's design: the latest UTC day with data, from raw.events.
select (max(occurred_at) at time zone 'UTC')::date as latest_day
from raw.events
