-- fct_daily_property_values: every event has exactly one value (or none) per property, so the
-- events of a (tz, event_type, day) add up to the same total for every configured property,
-- and to the events of the intermediate rows behind them. Returns the days where they differ.
{% set models = {'mart': ref('fct_daily_property_values'), 'rows': ref('int_user_property_days')} %}
with totals as (
    {%- for source, relation in models.items() %}
        select
            '{{ source }}' as source,
            tz,
            event_type,
            event_date,
            property,
            sum(events) as events
        from {{ relation }}
        group by tz, event_type, event_date, property
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

mart as (
    select * from totals where source = 'mart'
),

spread as (
    select
        tz,
        event_type,
        event_date,
        min(events) as fewest,
        max(events) as most,
        count(*) as properties
    from mart
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
    user_rows.tz,
    user_rows.event_type,
    user_rows.event_date,
    'mart differs from int_user_property_days' as problem
from totals as user_rows
left join mart
    on
        user_rows.tz = mart.tz
        and user_rows.event_type = mart.event_type
        and user_rows.event_date = mart.event_date
        and user_rows.property = mart.property
where user_rows.source = 'rows' and mart.events is distinct from user_rows.events
