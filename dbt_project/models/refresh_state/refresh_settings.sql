-- Grain: one row (id = 1): the reporting settings (zones and breakdown properties) the
-- watermarked models were last built for, as `reporting_fingerprint()` spells them.
-- Written only by the on-run-end hook of a run that built every watermarked model for them
-- (macros/reporting_settings.sql); read by the on-run-start check and by jobs/refresh.py.
{{ empty_state_table('id', {
    'id': 'integer',
    'fingerprint': 'text',
    'recorded_at': 'timestamptz',
}) }}
