"""PostgreSQL restarted during ingest and during a mart refresh: jobs retry and land, and the
marts are right after the next refresh. Runs on a private embedded PostgreSQL (pgserver)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from rq import Queue

from core.locks import REFRESH_LOCK_ID
from tests.reliability.harness import (
    REPO_ROOT,
    SCALE,
    Api,
    EmbeddedPostgres,
    Figures,
    Ledger,
    Service,
    batches,
    fresh_database,
    landed_counts,
    landed_ids,
    make_events,
    poll_for,
    queue_settled,
    record,
    redis_server,
    run_clients,
    service_env,
    wait_all_landed,
    wait_until,
)

EVENTS = 100_000 if SCALE == "full" else 20_000
OUTAGE = 5.0

MART_TABLES = [
    "marts.fct_daily_active_users",
    "marts.fct_daily_event_types",
    "marts.fct_event_type_reach",
    "marts.fct_retention_daily",
    "marts.fct_retention_weekly",
]


@pytest.fixture
def private_pg(workdir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(workdir / "pg")
    yield server
    server.close()


def restart(pg: EmbeddedPostgres, outage: float) -> tuple[float, float]:
    """Fast shutdown (running transactions are aborted), `outage` s down, start; (down, up)."""
    down = time.monotonic()
    pg.stop()
    time.sleep(max(0.0, outage - (time.monotonic() - down)))
    pg.start()
    return down, time.monotonic()


def independent_dau(database: str) -> dict[str, tuple[int, int]]:
    """date -> (active users, events), computed in Python from raw.events."""
    users: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    with psycopg.connect(database) as conn:
        conn.execute("set timezone = 'UTC'")
        for user_id, occurred_at in conn.execute("select user_id, occurred_at from raw.events"):
            day = occurred_at.date().isoformat()
            users[day].add(user_id)
            counts[day] += 1
    return {day: (len(users[day]), counts[day]) for day in users}


def mart_dau(database: str) -> dict[str, tuple[int, int]]:
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "select event_date, active_users, events from marts.fct_daily_active_users"
        ).fetchall()
    return {d.isoformat(): (int(a), int(e)) for d, a, e in rows}


def mart_snapshot(database: str) -> dict[str, list[Any]]:
    """Every mart's rows (loaded_through and other build-time columns left out)."""
    out: dict[str, list[Any]] = {}
    with psycopg.connect(database) as conn:
        for table in MART_TABLES:
            schema, name = table.split(".")
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = %s"
                    " and table_name = %s and column_name <> 'loaded_through'"
                    " order by ordinal_position",
                    (schema, name),
                )
            ]
            cols = ", ".join(columns)
            out[table] = conn.execute(f"select {cols} from {table} order by {cols}").fetchall()
    return out


def run_refresh(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "refresh", *extra],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.timeout(900)
def test_postgres_restart_during_ingest_and_refresh(
    private_pg: EmbeddedPostgres, workdir: Path
) -> None:
    with fresh_database(private_pg.url) as database, redis_server(workdir / "redis") as rds:
        env = service_env(database, rds.url, EVENTMART_WORKER_MAINTENANCE_INTERVAL="5")
        api = Api(env, "pg-api").start()
        worker = Service(["worker"], env, "pg-worker").start()
        try:
            # --- 1. restart during ingest
            events = make_events(EVENTS, seed=13, prefix="pg")
            ledger = Ledger()
            started = time.monotonic()
            threads = run_clients(api.url, batches(events, 500), ledger, 4, started + 400)
            wait_until(
                lambda: landed_counts(database)[0] >= EVENTS // 3, 180, 0.05, "a third landed"
            )
            down, up = restart(private_pg, OUTAGE)
            for thread in threads:
                thread.join(timeout=400)
            wait_all_landed(database, rds.url, ledger, 240)
            recovered = time.monotonic()
            queue = Queue("eventmart-ingest", connection=rds.client())
            failed_jobs = queue.failed_job_registry.get_job_count()
            rows, distinct = landed_counts(database)
            ids = landed_ids(database)
            ingest = Figures(
                scenario="postgres_restart_ingest",
                scale=f"{EVENTS} events in batches of 500, 4 clients, one fast-mode restart "
                f"({OUTAGE:g} s down)",
                sent=len(events),
                accepted=len(ledger.accepted_ids),
                landed=distinct,
                lost=len(ledger.accepted_ids - ids),
                duplicated=rows - distinct,
                recovery_seconds=round(recovered - up, 1),
                details={
                    "outage_seconds": round(up - down, 1),
                    "failed_jobs_for_good": failed_jobs,
                    "statuses": ledger.statuses,
                    "worker_alive": worker.alive(),
                },
            )
            record(ingest)
            assert ingest.lost == 0 and ingest.duplicated == 0 and failed_jobs == 0
            assert ids == ledger.accepted_ids and len(ids) == len(events)

            # --- 2. restart during a mart refresh, while more events stream in
            more = make_events(EVENTS // 4, seed=17, prefix="pg-more")
            ledger2 = Ledger()
            refresh = Service(["refresh"], env, "pg-refresh").start()
            with psycopg.connect(database, autocommit=True) as watcher:
                poll_for(
                    lambda: watcher.execute(
                        "select 1 from pg_locks where locktype = 'advisory' and objid = %s",
                        (REFRESH_LOCK_ID,),
                    ).fetchone(),
                    120,
                    0.05,
                    "the refresh to take its lock",
                )
            time.sleep(2)  # dbt is now building models
            threads = run_clients(api.url, batches(more, 500), ledger2, 2, time.monotonic() + 400)
            down, up = restart(private_pg, 3.0)
            assert refresh.process is not None
            refresh_exit = refresh.process.wait(timeout=180)  # fails, but must not hang
            for thread in threads:
                thread.join(timeout=400)
            wait_until(
                lambda: (
                    landed_counts(database)[0] >= len(events) + len(more) and queue_settled(rds.url)
                ),
                240,
                0.5,
                "the second stream to land",
            )
            again = run_refresh(env)
            refreshed = time.monotonic()
            assert again.returncode == 0, again.stderr[-2000:]
            expected = independent_dau(database)
            assert mart_dau(database) == expected
            incremental = mart_snapshot(database)
            full = run_refresh(env, "--full-refresh")
            assert full.returncode == 0, full.stderr[-2000:]
            assert mart_snapshot(database) == incremental  # marts equal a full rebuild, row for row
            rows, distinct = landed_counts(database)
            ids = landed_ids(database)
            accepted = ledger.accepted_ids | ledger2.accepted_ids
            during_refresh = Figures(
                scenario="postgres_restart_refresh",
                scale=f"refresh interrupted by a 3 s restart, {len(more)} more events streaming",
                sent=len(more),
                accepted=len(ledger2.accepted_ids),
                landed=distinct - len(events),
                lost=len(accepted - ids),
                duplicated=rows - distinct,
                recovery_seconds=round(refreshed - up, 1),
                details={
                    "interrupted_refresh_exit_code": refresh_exit,
                    "next_refresh_exit_code": again.returncode,
                    "dau_days_checked": len(expected),
                    "marts_equal_full_rebuild": True,
                },
            )
            record(during_refresh)
            assert during_refresh.lost == 0 and during_refresh.duplicated == 0
        finally:
            worker.stop()
            api.stop()
