-- Grain: one row per (event_type, user_id, event_date) with at least one such event.
-- previous_event_date is the user's latest earlier day with that event type: a user is active
-- in a date range exactly once, at the first row in it whose previous day lies before the
-- range, which lets the top-events read count distinct users over any range from a small
-- aggregate (fct_event_type_reach) instead of scanning users.
-- Incremental: the raw rows loaded since the last build (exactly those) are counted per key
-- and added to the stored rows; for each (type, user) with a new key, its stored rows from the
-- last one before the first new day on are read, and the later ones are rewritten only when a
-- late day changed their previous day. updated_at (the build's transaction time) tells the
-- marts which rows changed. A full build writes the rows in event_date order.
{{ config(
    unique_key=['event_type', 'user_id', 'event_date'],
    indexes=[
        {'columns': ['event_type', 'user_id', 'event_date'], 'unique': True},
        {'columns': ['event_date']},
        {'columns': ['updated_at']},
    ],
) }}

with

{{ new_event_counts(['event_type', 'user_id', 'event_date']) }},

{% if is_incremental() %}
-- per (type, user) with new events: the first day they touch
affected_pairs as (
    select
        event_type,
        user_id,
        min(event_date) as first_day
    from counted
    group by event_type, user_id
),

-- the stored rows of those pairs from the last one before first_day (the anchor, which gives
-- the first new day its previous day and is never rewritten) on
stored as (
    select
        existing_rows.event_type,
        existing_rows.user_id,
        existing_rows.event_date,
        existing_rows.events,
        existing_rows.loaded_at,
        existing_rows.previous_event_date,
        existing_rows.event_date >= affected_pairs.first_day as may_change
    from affected_pairs
    inner join {{ this }} as existing_rows
        on
            affected_pairs.event_type = existing_rows.event_type
            and affected_pairs.user_id = existing_rows.user_id
            and existing_rows.event_date >= coalesce(
                (
                    select max(anchor.event_date)
                    from {{ this }} as anchor
                    where
                        anchor.event_type = affected_pairs.event_type
                        and anchor.user_id = affected_pairs.user_id
                        and anchor.event_date < affected_pairs.first_day
                ),
                affected_pairs.first_day
            )
),

combined as (
    select
        coalesce(counted.event_type, stored.event_type) as event_type,
        coalesce(counted.user_id, stored.user_id) as user_id,
        coalesce(counted.event_date, stored.event_date) as event_date,
        coalesce(counted.events, 0) + coalesce(stored.events, 0) as events,
        greatest(counted.loaded_at, stored.loaded_at) as loaded_at,
        counted.event_type is not null as counted_new,
        coalesce(stored.may_change, true) as may_change,
        stored.previous_event_date as stored_previous_date
    from counted
    full outer join stored
        on
            counted.event_type = stored.event_type
            and counted.user_id = stored.user_id
            and counted.event_date = stored.event_date
),
{% else %}
combined as (
    select
        *,
        true as counted_new,
        true as may_change,
        null::date as stored_previous_date
    from counted
),
{% endif %}

with_previous as (
    select
        *,
        lag(event_date) over (
            partition by event_type, user_id order by event_date
        ) as previous_event_date
    from combined
),

final as (
    select
        event_type,
        user_id,
        event_date,
        previous_event_date,
        events,
        loaded_at,
        now() as updated_at
    from with_previous
    where
        counted_new
        or (may_change and previous_event_date is distinct from stored_previous_date)
    {% if not is_incremental() %}
    order by event_date
    {% endif %}
)

select * from final
