-- Grain: one row per (tz, event_date, user_id) with at least one event that local day of zone
-- tz (every configured reporting zone, macros/reporting.sql), with previous_event_date, the
-- user's previous active day in that zone (null on the first).
-- Incremental: the raw rows loaded since the last build (exactly those: macros/watermarks.sql)
-- are counted per key and added to the stored rows; previous days are kept as
-- macros/previous_day.sql describes. A full build writes the rows in event_date order.
{{ config(
    unique_key=['tz', 'user_id', 'event_date'],
    indexes=[
        {'columns': ['tz', 'user_id', 'event_date'], 'unique': True},
        {'columns': ['tz', 'event_date']},
        {'columns': ['updated_at']},
    ],
) }}

with

{{ new_event_counts(['tz', 'event_date', 'user_id']) }},

{{ previous_day_rows(['tz', 'user_id'], ['tz', 'event_date', 'user_id']) }}

select * from final
