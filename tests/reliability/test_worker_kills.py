"""kill -9 the worker while it is inside the raw write, over and over, during a stream."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.reliability.harness import (
    SCALE,
    Api,
    Figures,
    Ledger,
    Service,
    batches,
    landed_counts,
    landed_ids,
    make_events,
    poll_for,
    record,
    redis_server,
    run_clients,
    service_env,
    wait_all_landed,
    wait_until,
)

EVENTS = 200_000 if SCALE == "full" else 30_000
KILLS = 10
# Short job timeout and maintenance interval: an abandoned job is retried after
# job timeout + 60 s (RQ's grace) + at most one maintenance interval.
JOB_TIMEOUT = 10
MAINTENANCE = 5

WRITER_BACKEND = """
    select pid, state, wait_event_type, left(query, 60) as query
    from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
      and backend_type = 'client backend' and xact_start is not null
      and (query ilike '%events_batch%' or query ilike '%raw.events%')
"""


def writer_in_transaction(conn: psycopg.Connection, waiting_on_lock: bool) -> dict[str, Any] | None:
    for pid, state, wait_type, query in conn.execute(WRITER_BACKEND).fetchall():
        if waiting_on_lock and wait_type != "Lock":
            continue
        return {"backend": pid, "state": state, "wait": wait_type, "query": query}
    return None


@pytest.mark.timeout(900)
def test_worker_killed_mid_write_loses_and_duplicates_nothing(database: str, workdir: Path) -> None:
    with redis_server(workdir / "redis") as rds:
        env = service_env(
            database,
            rds.url,
            EVENTMART_JOB_TIMEOUT_SECONDS=str(JOB_TIMEOUT),
            EVENTMART_WORKER_MAINTENANCE_INTERVAL=str(MAINTENANCE),
        )
        api = Api(env, "kill-api").start()
        worker = Service(["worker"], env, "kill-worker").start()
        try:
            events = make_events(EVENTS, seed=7, prefix="kill")
            bodies = batches(events, 500)
            # The stream goes out in KILLS + 1 consecutive slices; each kill happens while the
            # worker is landing its slice, so every kill finds a write to interrupt.
            cuts = [len(bodies) * i // (KILLS + 1) for i in range(KILLS + 2)]
            slices = [bodies[a:b] for a, b in itertools.pairwise(cuts)]
            ledger = Ledger()
            started = time.monotonic()
            deadline = started + 600
            threads: list[threading.Thread] = []
            kills: list[dict[str, Any]] = []
            with (
                psycopg.connect(database, autocommit=True) as locker,
                psycopg.connect(database, autocommit=True) as watcher,
            ):
                for k in range(KILLS):
                    # Kills spread over the whole stream: the earlier slices have landed, but
                    # for the jobs abandoned by earlier kills (they wait for their expiry).
                    posted = 500 * cuts[k]
                    wait_until(
                        lambda p=posted, k=k: landed_counts(database)[0] >= p - 500 * (k + 1),
                        300,
                        0.1,
                        "the earlier slices to land",
                    )
                    landed_before = landed_counts(database)[0]
                    if k % 2 == 0:
                        # Block the INSERT with a table lock: the worker is then provably inside
                        # write_events, its transaction open and its batch copied.
                        with locker.transaction():
                            locker.execute("lock table raw.events in share mode")
                            threads += run_clients(api.url, slices[k], ledger, 4, deadline)
                            writer = poll_for(
                                lambda: writer_in_transaction(watcher, True),
                                60,
                                0.01,
                                "the worker to block inside the write",
                            )
                            worker.kill9()
                        mode = "blocked INSERT"
                    else:
                        # Kill at whatever point of the write the worker happens to be.
                        threads += run_clients(api.url, slices[k], ledger, 4, deadline)
                        writer = poll_for(
                            lambda: writer_in_transaction(watcher, False),
                            60,
                            0.002,
                            "the worker inside a write transaction",
                        )
                        worker.kill9()
                        mode = "mid-transaction"
                    kills.append({"mode": mode, "landed_before": landed_before, **writer})
                    worker.start()
                    # The restarted worker lands something before the next kill.
                    wait_until(
                        lambda n=landed_before: landed_counts(database)[0] >= n + 500,
                        120,
                        0.05,
                        "the restarted worker to land a batch",
                    )
                threads += run_clients(api.url, slices[KILLS], ledger, 4, deadline)
            last_kill = time.monotonic()
            for thread in threads:
                thread.join(timeout=600)
            stream_done = time.monotonic()
            accepted = ledger.accepted_ids
            wait_all_landed(database, rds.url, ledger, JOB_TIMEOUT + 60 + MAINTENANCE * 3 + 120)
            recovered = time.monotonic()
        finally:
            worker.stop()
            api.stop()
        rows, distinct = landed_counts(database)
        ids = landed_ids(database)
        lost = len(accepted - ids)
        figures = Figures(
            scenario="worker_kill",
            scale=f"{EVENTS} events in batches of 500, 4 clients, {KILLS} kill -9",
            sent=len(events),
            accepted=len(accepted),
            landed=distinct,
            lost=lost,
            duplicated=rows - distinct,
            recovery_seconds=round(recovered - last_kill, 1),
            details={
                "kills": kills,
                "worker_starts": worker.starts,
                "stream_seconds": round(stream_done - started, 1),
                "settled_after_stream_seconds": round(recovered - stream_done, 1),
                "statuses": ledger.statuses,
                "client_errors": ledger.errors,
                "job_timeout_seconds": JOB_TIMEOUT,
                "maintenance_interval_seconds": MAINTENANCE,
            },
        )
        record(figures)
        assert len(kills) == KILLS
        assert len(accepted) == len(events)
        assert lost == 0
        assert rows == distinct == len(events)
        assert ids == accepted
