-- fct_daily_property_values: every event has exactly one value (or none) per property, so the
-- events of a (tz, event_type, day) add up to the same total for every configured property,
-- and to the events of the intermediate rows behind them. Returns the days where they differ.
with per_property as (
    select
        tz,
        event_type,
        event_date,
        property,
        sum(events) as events
    from {{ ref('fct_daily_property_values') }}
    group by tz, event_type, event_date, property
),

intermediate_totals as (
    select
        tz,
        event_type,
        event_date,
        property,
        sum(events) as events
    from {{ ref('int_user_property_days') }}
    group by tz, event_type, event_date, property
),

spread as (
    select
        tz,
        event_type,
        event_date,
        min(events) as fewest,
        max(events) as most,
        count(*) as properties
    from per_property
    group by tz, event_type, event_date
)

select
    spread.tz,
    spread.event_type,
    spread.event_date,
    'properties disagree' as problem
from spread
where
    spread.fewest <> spread.most
    or spread.properties <> {{ breakdown_properties() | length }}
union all
select
    intermediate_totals.tz,
    intermediate_totals.event_type,
    intermediate_totals.event_date,
    'mart differs from int_user_property_days' as problem
from intermediate_totals
left join per_property
    on
        intermediate_totals.tz = per_property.tz
        and intermediate_totals.event_type = per_property.event_type
        and intermediate_totals.event_date = per_property.event_date
        and intermediate_totals.property = per_property.property
where per_property.events is distinct from intermediate_totals.events
