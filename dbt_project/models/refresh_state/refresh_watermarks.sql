-- Grain: one row per watermarked model (tag `watermarked`): the raw loaded_at it has read up to.
-- Written only by that model's pre- and post-hooks (macros/watermarks.sql); `full_refresh:
-- false` keeps the rows through `--full-refresh` (a full build reads everything whatever they say).
{{ empty_state_table('model_name', {
    'model_name': 'text',
    'safe_from': 'timestamptz',
    'pending_safe_from': 'timestamptz',
}) }}
