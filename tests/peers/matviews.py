"""PostgreSQL materialized views of the marts' aggregates (`sql/matviews.sql`)."""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

from core.sql_files import read_sql

VIEWS = (
    "mv_daily_active_users",
    "mv_daily_event_types",
    "mv_event_type_reach",
    "mv_retention_daily",
    "mv_retention_weekly",
)


def create_matviews(conn: psycopg.Connection) -> None:
    conn.execute(read_sql("tests.peers", "matviews").encode())


def refresh_matviews(conn: psycopg.Connection) -> dict[str, float]:
    """REFRESH MATERIALIZED VIEW each view in turn; seconds per view."""
    seconds = {}
    for view in VIEWS:
        started = time.perf_counter()
        conn.execute(sql.SQL("refresh materialized view {}").format(sql.Identifier("peers", view)))
        seconds[view] = time.perf_counter() - started
    return seconds


def drop_matviews(conn: psycopg.Connection) -> None:
    conn.execute("drop schema if exists peers cascade")
