-- Grain: one row per (tz, event_type, user_id, event_date) with at least one such event on
-- that local day of zone tz (every configured reporting zone, macros/reporting.sql).
-- previous_event_date is the user's latest earlier day with that event type: a user is active
-- in a date range exactly once, at the first row in it whose previous day lies before the
-- range, which lets the top-events read count distinct users over any range from a small
-- aggregate (fct_event_type_reach) instead of scanning users.
-- Incremental: the raw rows loaded since the last build (exactly those) are counted per key
-- and added to the stored rows; previous days are kept as macros/previous_day.sql describes.
{{ config(
    unique_key=['tz', 'event_type', 'user_id', 'event_date'],
    indexes=[
        {'columns': ['tz', 'event_type', 'user_id', 'event_date'], 'unique': True},
        {'columns': ['tz', 'event_type', 'event_date']},
        {'columns': ['tz', 'event_date']},
        {'columns': ['updated_at']},
    ],
) }}

with

{{ new_event_counts(['tz', 'event_type', 'user_id', 'event_date']) }},

{{ previous_day_rows(
    ['tz', 'event_type', 'user_id'],
    ['tz', 'event_type', 'user_id', 'event_date'],
) }}

select * from final
