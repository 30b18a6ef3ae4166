"""Fixtures shared by the mart tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

import jobs.refresh
from tests.integration.marts_support import drop_marts


@pytest.fixture
def marts(db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch) -> Iterator[psycopg.Connection]:
    """An empty raw.events and no marts yet; refreshes stay incremental even when late
    events touch most days (the shortcut to a rebuild is tested on its own)."""
    drop_marts(db)
    monkeypatch.setattr(jobs.refresh, "FULL_REBUILD_SHARE", 2.0)
    yield db
