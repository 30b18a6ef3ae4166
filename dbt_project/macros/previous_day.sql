{#
  The CTEs of an intermediate model keyed by `partition` + event_date that keeps each row's
  `previous_event_date` (the partition's latest earlier day, null on its first), from the
  `counted` CTE (new events per key, `new_event_counts`); ends with `final` (leading `with`
  not included). int_user_days (partition tz, user_id) and int_user_event_type_days
  (tz, event_type, user_id) both use it.

  Incremental: the new counts are added to the stored rows of their keys; for each partition
  with a new key, its stored rows from the last one before the first new day on are read (that
  anchor gives the first new day its previous day and is never rewritten), and the later ones
  are rewritten only when a late day changed their previous day. updated_at (the build's
  transaction time) tells the marts which rows changed. A full build writes the rows in
  event_date order (the marts read whole days back). `columns`: the output's key columns in
  order (the partition and event_date).
#}
{% macro previous_day_rows(partition, columns) -%}
{% if is_incremental() %}
-- per partition with new events: the first day they touch
affected_pairs as (
    select
        {{ partition | join(',\n        ') }},
        min(event_date) as first_day
    from counted
    group by {{ partition | join(', ') }}
),

-- where each partition's stored rows are read from: the anchor (its last stored day before
-- first_day), computed once per partition through the unique index (materialized: else the
-- planner evaluates it once per stored row it joins)
anchored_pairs as materialized (
    select
        affected_pairs.*,
        coalesce(
            (
                select max(anchor.event_date)
                from {{ this }} as anchor
                where
                    {%- for key in partition %}
                    anchor.{{ key }} = affected_pairs.{{ key }}
                    and {% endfor -%}
                    anchor.event_date < affected_pairs.first_day
            ),
            affected_pairs.first_day
        ) as read_from
    from affected_pairs
),

-- the stored rows of those partitions from the anchor on
stored as (
    select
        {%- for key in partition %}
        existing_rows.{{ key }},
        {%- endfor %}
        existing_rows.event_date,
        existing_rows.events,
        existing_rows.loaded_at,
        existing_rows.previous_event_date,
        existing_rows.event_date >= anchored_pairs.first_day as may_change
    from anchored_pairs
    inner join {{ this }} as existing_rows
        on
            {%- for key in partition %}
            anchored_pairs.{{ key }} = existing_rows.{{ key }}
            and {% endfor -%}
            existing_rows.event_date >= anchored_pairs.read_from
),

combined as (
    select
        {%- for key in partition + ['event_date'] %}
        coalesce(counted.{{ key }}, stored.{{ key }}) as {{ key }},
        {%- endfor %}
        coalesce(counted.events, 0) + coalesce(stored.events, 0) as events,
        greatest(counted.loaded_at, stored.loaded_at) as loaded_at,
        counted.event_date is not null as counted_new,
        coalesce(stored.may_change, true) as may_change,
        stored.previous_event_date as stored_previous_date
    from counted
    full outer join stored
        on
            {%- for key in partition %}
            counted.{{ key }} = stored.{{ key }}
            and {% endfor -%}
            counted.event_date = stored.event_date
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
            partition by {{ partition | join(', ') }} order by event_date
        ) as previous_event_date
    from combined
),

final as (
    select
        {{ columns | join(',\n        ') }},
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
{%- endmacro %}
