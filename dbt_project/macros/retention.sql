{#
  (tz, activity day) pairs whose retention cells may have changed: the local days of newly
  loaded events in each zone, plus every active day (in that zone) of a user who may have moved
  to an earlier cohort (a new event on the user's current cohort day: either a new user, or
  one whose earliest event arrived late).
#}
{% macro retention_affected_days() -%}
    with new_user_days as (
        select distinct
            new_rows.tz,
            new_rows.user_id,
            new_rows.event_date
        from ({{ zoned_events('loaded_at >= ' ~ window_start()) }}) as new_rows
    ),

    maybe_moved as (
        select distinct
            new_user_days.tz,
            new_user_days.user_id
        from new_user_days
        inner join {{ ref('int_user_first_seen') }} as first_seen
            on
                new_user_days.tz = first_seen.tz
                and new_user_days.user_id = first_seen.user_id
                and new_user_days.event_date = first_seen.cohort_date
    )

    select
        tz,
        event_date
    from new_user_days
    union
    select
        user_days.tz,
        user_days.event_date
    from maybe_moved
    inner join {{ ref('int_user_days') }} as user_days
        on
            maybe_moved.tz = user_days.tz
            and maybe_moved.user_id = user_days.user_id
{%- endmacro %}
