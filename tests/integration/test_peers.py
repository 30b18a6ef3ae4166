"""The reference designs that benchmark.py measures answer what our marts answer, so the
comparison is between designs, not between different results."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from fastapi.testclient import TestClient

from core.settings import Settings
from jobs.refresh import refresh_marts
from tests.integration.marts_support import Expected, drop_marts, generate_history, write
from tests.peers.matviews import create_matviews, drop_matviews, refresh_matviews
from tests.peers.seed_design import create_seed_app


def test_seed_design_and_matviews_equal_the_independent_answers(
    db: psycopg.Connection, settings: Settings
) -> None:
    drop_marts(db)
    loaded = [event for part in generate_history() for event in part]
    write(db, loaded)
    expected = Expected(loaded)
    first, last = expected.earliest, expected.latest
    middle = first + timedelta(days=10), first + timedelta(days=40)
    with TestClient(create_seed_app()) as client:

        def data(path: str) -> object:
            reply = client.get(path)
            assert reply.status_code == 200, reply.text
            return reply.json()["data"]

        for start, end in ((first, last), middle):
            span = f"from={start}&to={end}"
            assert data(f"/seed/stats/dau?{span}") == expected.dau(start, end)
            assert data(f"/seed/stats/top-events?{span}&limit=5") == expected.top_events(
                start, end, 5
            )
            for period, periods in (("day", 7), ("week", 4)):
                assert data(
                    f"/seed/stats/retention?{span}&period={period}&periods={periods}"
                ) == expected.retention(start, end, period, periods)

    assert refresh_marts(settings).success
    try:
        create_matviews(db)
        assert set(refresh_matviews(db)) >= {"mv_daily_active_users", "mv_retention_weekly"}
        for mart, view, columns in (
            ("fct_daily_active_users", "mv_daily_active_users", "event_date, active_users"),
            ("fct_daily_event_types", "mv_daily_event_types", "event_date, event_type, events"),
            (
                "fct_event_type_reach",
                "mv_event_type_reach",
                "event_date, event_type, previous_event_date, active_users, events",
            ),
            ("fct_retention_daily", "mv_retention_daily", "cohort_date, period_offset"),
        ):
            ours = db.execute(f"select {columns} from marts.{mart} order by {columns}").fetchall()
            theirs = db.execute(f"select {columns} from peers.{view} order by {columns}").fetchall()
            assert ours == theirs, mart
    finally:
        drop_matviews(db)
