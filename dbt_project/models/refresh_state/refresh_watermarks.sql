-- Grain: one row per watermarked model (tag `watermarked`): the raw loaded_at it has read up to.
-- Written only by that model's pre- and post-hooks (macros/watermarks.sql), never by this
-- query, which only gives the table its shape on the first build; `full_refresh: false` keeps
-- the rows through `--full-refresh` (a full build reads everything whatever they say).
{{ config(
    unique_key='model_name',
    indexes=[{'columns': ['model_name'], 'unique': True}],
) }}

with final as (
    select
        null::text as model_name,
        null::timestamptz as safe_from,
        null::timestamptz as pending_safe_from
)

select * from final
where false
