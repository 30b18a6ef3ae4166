"""Settings: the service URLs, however they are given."""

from __future__ import annotations

import pytest

from core.settings import Settings


def test_service_urls_come_from_keywords_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://env/db")
    monkeypatch.setenv("REDIS_URL", "redis://env/1")
    assert Settings().database_url == "postgresql://env/db"
    assert Settings().redis_url == "redis://env/1"
    given = Settings(database_url="postgresql://given/db", redis_url="redis://given/2")
    assert (given.database_url, given.redis_url) == ("postgresql://given/db", "redis://given/2")


def test_dashboard_stale_threshold_follows_the_refresh_interval_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTMART_REFRESH_INTERVAL_SECONDS", "300")
    assert Settings().dashboard_stale_after == 2 * 300 + 60
    monkeypatch.setenv("EVENTMART_DASHBOARD_STALE_SECONDS", "40m")
    monkeypatch.setenv("EVENTMART_DASHBOARD_POLL_SECONDS", "2.5")
    assert Settings().dashboard_stale_after == 2400
    assert Settings().dashboard_poll_seconds == 2.5
