{#
  Activity days whose retention cells may have changed: the days of newly loaded events, plus
  every active day of a user who may have moved to an earlier cohort (a new event on the
  user's current cohort day: either a new user, or one whose earliest event arrived late).
#}
{% macro retention_affected_days() -%}
    with new_user_days as (
        select distinct
            user_id,
            event_date
        from {{ ref('stg_events') }}
        where loaded_at >= {{ window_start() }}
    ),

    maybe_moved as (
        select distinct new_user_days.user_id
        from new_user_days
        inner join {{ ref('int_user_first_seen') }} as first_seen
            on
                new_user_days.user_id = first_seen.user_id
                and new_user_days.event_date = first_seen.cohort_date
    )

    select event_date from new_user_days
    union
    select user_days.event_date
    from maybe_moved
    inner join {{ ref('int_user_days') }} as user_days
        on maybe_moved.user_id = user_days.user_id
{%- endmacro %}
