"""The same 10k-event stream replayed 10 times, each shuffled differently, by concurrent
clients: raw.events holds each event exactly once, and the first stored copy is the one sent."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import psycopg
import pytest

from tests.reliability.harness import (
    Api,
    Figures,
    Ledger,
    Service,
    batches,
    landed_counts,
    make_events,
    queue_settled,
    record,
    redis_server,
    run_clients,
    service_env,
    shuffled,
    wait_until,
)

EVENTS = 10_000
REPLAYS = 10
CLIENTS = 8


@pytest.mark.timeout(600)
def test_shuffled_concurrent_replays_store_each_event_once(database: str, workdir: Path) -> None:
    events = make_events(EVENTS, seed=23, prefix="replay")
    bodies: list[bytes] = []
    for replay in range(REPLAYS):
        # Different order and different batch sizes each time: different job ids, so the
        # writer's ON CONFLICT (not the queue's job-id dedup) has to keep the counts exact.
        bodies += batches(shuffled(events, replay), 250 + 50 * replay)
    bodies = shuffled(bodies, 99)  # replays interleave
    with redis_server(workdir / "redis") as rds:
        env = service_env(database, rds.url)
        api = Api(env, "replay-api").start()
        workers = [Service(["worker"], env, f"replay-worker-{i}").start() for i in range(2)]
        try:
            ledger = Ledger()
            started = time.monotonic()
            threads = run_clients(api.url, bodies, ledger, CLIENTS, started + 500)
            for thread in threads:
                thread.join(timeout=500)
            posted = time.monotonic()
            wait_until(
                lambda: landed_counts(database)[0] >= EVENTS and queue_settled(rds.url),
                240,
                0.5,
                "the replays to land",
            )
            time.sleep(1)
            wait_until(lambda: queue_settled(rds.url), 60, 0.5, "the queue to drain")
            settled = time.monotonic()
        finally:
            for worker in workers:
                worker.stop()
            api.stop()
    rows, distinct = landed_counts(database)
    with psycopg.connect(database) as conn:
        stored = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                "select event_id, user_id, event_type, properties from raw.events"
            )
        }
    ok = ledger.statuses == {202: len(bodies)}
    sent = {e["event_id"]: (e["user_id"], e["event_type"], e["properties"]) for e in events}
    figures = Figures(
        scenario="replay",
        scale=f"{EVENTS} events x {REPLAYS} shuffled replays = {EVENTS * REPLAYS} posted, "
        f"{CLIENTS} clients, 2 workers",
        sent=EVENTS * REPLAYS,
        accepted=sum(len(orjson.loads(b)) for b in bodies) if ok else len(ledger.accepted_ids),
        landed=distinct,
        lost=len(set(sent) - set(stored)),
        duplicated=rows - distinct,
        recovery_seconds=round(settled - posted, 1),
        details={
            "distinct_events": EVENTS,
            "requests": len(bodies),
            "statuses": ledger.statuses,
            "post_seconds": round(posted - started, 1),
        },
    )
    record(figures)
    assert ok, ledger.statuses
    assert rows == distinct == EVENTS
    assert stored.keys() == sent.keys()
    assert all(stored[k] == v for k, v in sent.items())
