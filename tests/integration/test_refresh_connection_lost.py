"""A refresh whose PostgreSQL session dies mid-run (server restart) reports a failed result;
it does not raise from its clean-up (found by tests/reliability/test_postgres_restart.py)."""

from __future__ import annotations

import psycopg
import pytest

import jobs.refresh
from core.locks import REFRESH_LOCK_ID
from core.settings import Settings
from jobs.refresh import refresh_marts


def test_refresh_lock_session_lost_gives_a_failed_result(
    settings: Settings, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dbt_while_the_server_restarts(
        settings: Settings, *, full_refresh: bool, lease_holder: str
    ) -> list[str]:
        # What a restart does to the lock holder's session: the server terminates it.
        terminated = db.execute(
            "select pg_terminate_backend(pid) from pg_locks "
            "where locktype = 'advisory' and objid = %s "
            # advisory locks are per database: never touch other test runs on the same server
            "and database = (select oid from pg_database where datname = current_database())",
            (REFRESH_LOCK_ID,),
        ).fetchall()
        assert terminated == [(True,)]
        return ["dbt: connection lost"]

    monkeypatch.setattr(jobs.refresh, "run_dbt", dbt_while_the_server_restarts)
    # always start dbt
    monkeypatch.setattr(jobs.refresh, "nothing_new", lambda conn, threshold: False)
    result = refresh_marts(settings)
    assert not result.success
    assert result.errors[0] == "dbt: connection lost"
    assert result.errors[1].startswith("postgres: connection lost during the refresh")
    # The lock went with the session: the next refresh is not blocked.
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        row = conn.execute("select pg_try_advisory_lock(%s)", (REFRESH_LOCK_ID,)).fetchone()
        assert row == (True,)
        # and the lease of the session that is gone goes to the next claim at once
        conn.execute("select raw.claim_refresh_lease('next')")
        assert conn.execute("select holder from raw.refresh_lease").fetchone() == ("next",)
        conn.execute("select raw.release_refresh_lease('next')")
