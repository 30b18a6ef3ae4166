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
