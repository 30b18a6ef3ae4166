"""The scheduler refreshes as soon as rows land, and only then (against a real database)."""

from __future__ import annotations

import psycopg

from core.settings import Settings
from jobs.refresh import read_refresh_status
from jobs.scheduler import RefreshLoop
from tests.integration.marts_support import Event, drop_marts, write


def dau(conn: psycopg.Connection, day: str) -> int:
    row = conn.execute(
        "select active_users from marts.fct_daily_active_users where event_date = %s", (day,)
    ).fetchone()
    return 0 if row is None else int(row[0])


def test_refreshes_when_rows_land_not_otherwise(db: psycopg.Connection, settings: Settings) -> None:
    drop_marts(db)
    loop = RefreshLoop(settings.model_copy(update={"refresh_interval_seconds": 3600}))
    try:
        assert loop.tick() is True  # first tick: the marts were never built
        refreshed_at, _ = read_refresh_status(db)
        assert loop.tick() is False  # nothing landed, interval not up: no refresh at all
        assert read_refresh_status(db)[0] == refreshed_at
        write(db, [Event("s-1", "u-1", "view", "2026-05-04T10:00:00Z")])
        assert loop.tick() is True  # the probe saw the new row
        assert dau(db, "2026-05-04") == 1
        assert loop.tick() is False
    finally:
        loop.close()
