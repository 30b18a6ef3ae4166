"""The fingerprint of the reporting settings the marts are built for (jobs/refresh.py; dbt
spells it the same way in dbt_project/macros/reporting_settings.sql, which the integration
tests check against a real build)."""

from __future__ import annotations

from core.settings import Settings
from jobs.refresh import reporting_fingerprint


def test_order_is_ignored_and_both_settings_count() -> None:
    base = Settings(timezones=["UTC", "Europe/Kyiv"], breakdown_properties=["path", "$browser"])
    same = Settings(timezones=["Europe/Kyiv", "UTC"], breakdown_properties=["$browser", "path"])
    assert reporting_fingerprint(base) == reporting_fingerprint(same)
    assert reporting_fingerprint(base) == (
        "timezones=Europe/Kyiv,UTC;breakdown_properties=$browser,path"
    )
    other_zone = base.model_copy(update={"timezones": ["UTC"]})
    other_property = base.model_copy(update={"breakdown_properties": ["path"]})
    assert reporting_fingerprint(other_zone) != reporting_fingerprint(base)
    assert reporting_fingerprint(other_property) != reporting_fingerprint(base)
