"""A 202 means each accepted event lands in raw.events exactly once, whatever is retried."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any

import httpx2
import orjson
import psycopg
from fastapi.testclient import TestClient
from rq import Queue
from rq.job import Job

from api.ingest import triage
from core.settings import Settings
from jobs.ingest import land_batch
from jobs.queue import enqueue_batch
from loaders.writer import write_events
from tests.bad_events import with_
from tests.conftest import count_events, drain, start_process


def batch(start: int, stop: int) -> list[dict[str, Any]]:
    return [with_(event_id=f"e-{i}", user_id=f"u-{i % 7}") for i in range(start, stop)]


def test_same_batch_posted_three_times_is_queued_and_stored_once(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    events = batch(0, 100)
    for _ in range(3):
        reply = client.post("/events", json=events)
        assert reply.status_code == 202
        assert reply.json()["accepted"] == 100
    assert queue.count == 1  # the job id is derived from the batch content
    drain(queue)
    assert count_events(db) == 100
    # Posted again after it landed: the finished job stands for it; nothing new lands.
    client.post("/events", json=events)
    drain(queue)
    assert count_events(db) == 100


def test_overlapping_batches_store_the_union(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    for start, stop in [(0, 60), (40, 100), (90, 150), (0, 150)]:
        assert client.post("/events", json=batch(start, stop)).status_code == 202
    drain(queue)
    assert count_events(db) == 150
    rows = db.execute("select count(distinct event_id), count(*) from raw.events").fetchone()
    assert rows == (150, 150)


def test_first_stored_copy_wins_forever(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    client.post("/events", json=[with_(event_id="k", user_id="original")])
    drain(queue)
    client.post("/events", json=[with_(event_id="k", user_id="impostor")])
    drain(queue)
    assert db.execute("select user_id from raw.events").fetchall() == [("original",)]


def test_job_run_again_after_commit_counts_duplicates(
    queue: Queue, db: psycopg.Connection, settings: Settings
) -> None:
    rows = triage(batch(0, 25), datetime.now(UTC), settings, False).rows
    job = enqueue_batch(queue, rows, settings).job
    key = job.args[0]
    payload = queue.connection.get(key)
    assert payload is not None
    drain(queue)
    assert Job.fetch(job.id, connection=queue.connection).return_value() == {
        "inserted": 25,
        "duplicates": 0,
    }
    assert queue.connection.get(key) is None  # the rows leave Redis once committed
    # A retry after the COMMIT but before the rows were deleted: every row is a duplicate.
    queue.connection.set(key, payload)
    assert land_batch(key, queue.connection) == {"inserted": 0, "duplicates": 25}
    # A retry after they were deleted: nothing left to land, nothing lost.
    assert land_batch(key, queue.connection) == {"inserted": 0, "duplicates": 0}
    assert count_events(db) == 25


def test_retried_post_of_a_landed_batch_leaves_no_rows_in_redis(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    events = batch(0, 10)
    client.post("/events", json=events)
    drain(queue)
    assert client.post("/events", json=events).status_code == 202  # job finished: not requeued
    assert queue.count == 0
    assert [k for k in queue.connection.scan_iter("eventmart:batch:*")] == []
    assert count_events(db) == 10


def test_writer_reports_inserted_and_duplicates(db: psycopg.Connection, settings: Settings) -> None:
    now = datetime.now(UTC)
    rows = [(f"w-{i}", "u", "t", now, "{}", now) for i in range(10)]
    with psycopg.connect(settings.database_url or "") as conn:
        first = write_events(conn, rows[:6])
        second = write_events(conn, rows + rows[:3])  # in-batch copies too
    assert (first.rows, first.inserted, first.duplicates) == (6, 6, 0)
    assert (second.rows, second.inserted, second.duplicates) == (13, 4, 9)
    assert count_events(db) == 10


def test_two_workers_draining_concurrently_store_each_event_once(
    client: TestClient, queue: Queue, db: psycopg.Connection
) -> None:
    # 40 jobs, heavily overlapping, so both workers insert the same ids at the same time.
    for k in range(40):
        start = (k % 10) * 50
        assert client.post("/events", json=batch(start, start + 200)).status_code == 202
    assert queue.count == 10  # identical batches share one job
    workers = [start_process(["worker", "--burst"], f"worker-{n}") for n in range(2)]
    for process in workers:
        assert process.wait(timeout=120) == 0
    assert count_events(db) == 650  # ids 0..649
    assert db.execute("select count(distinct event_id) from raw.events").fetchone() == (650,)


def test_wait_true_reports_inserted_and_duplicates(
    live_api: str, live_worker: subprocess.Popen[bytes], db: psycopg.Connection
) -> None:
    events = batch(0, 30)
    first = httpx2.post(f"{live_api}/events?wait=true", json=events, timeout=30).json()
    assert first["landed"] is True
    assert (first["accepted"], first["inserted"], first["duplicates"]) == (30, 30, 0)
    overlap = httpx2.post(f"{live_api}/events?wait=true", json=batch(20, 40), timeout=30).json()
    assert (overlap["inserted"], overlap["duplicates"]) == (10, 10)
    assert count_events(db) == 40


def test_wait_true_times_out_with_landed_false(live_api: str, db: psycopg.Connection) -> None:
    """No worker running: the answer still comes (202, landed false) and the job stays queued."""
    reply = httpx2.post(
        f"{live_api}/events?wait=true",
        content=orjson.dumps(batch(0, 5)),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 202
    assert reply.json()["landed"] is False
    assert count_events(db) == 0
