"""A worker killed mid-job leaves its job "started": maintenance must retry it, not fail it."""

from __future__ import annotations

import psycopg
import redis
from rq import Queue
from rq.job import JobStatus

from core.settings import Settings
from jobs.queue import enqueue_batch
from jobs.worker import IngestWorker
from tests.conftest import count_events


def test_idle_worker_wakes_for_maintenance_at_its_interval(redis_conn: redis.Redis) -> None:
    queue = Queue("eventmart-ingest", connection=redis_conn)
    worker = IngestWorker([queue], connection=redis_conn, maintenance_interval=7)
    assert worker.dequeue_timeout == 7  # RQ's default would block ~400 s
    assert IngestWorker([queue], connection=redis_conn).dequeue_timeout <= 600


def test_abandoned_job_is_retried_and_lands_once(
    queue: Queue, settings: Settings, db: psycopg.Connection
) -> None:
    from datetime import UTC, datetime

    received = datetime.now(UTC)
    rows = [(f"ab-{i}", "u", "click", received, "{}", received) for i in range(5)]
    job = enqueue_batch(queue, rows, settings).job
    # A worker takes the job and dies before finishing it (as kill -9 would leave it).
    dead = IngestWorker([queue], connection=queue.connection)
    dead.prepare_execution(job)
    dead.prepare_job_execution(job)
    assert job.get_status(refresh=True) == JobStatus.STARTED
    # Its registry entry expires (job timeout + RQ's grace); the next maintenance pass runs.
    queue.started_job_registry.cleanup(timestamp=9_999_999_999)
    job.refresh()
    assert job.get_status() == JobStatus.SCHEDULED  # retried after the first interval
    assert job.retries_left == len(settings.job_retry_intervals) - 1
    assert queue.failed_job_registry.get_job_count() == 0
    # Due now: the scheduler moves it back to the queue and a worker lands it.
    queue.scheduled_job_registry.remove(job)
    queue.enqueue_job(job)
    IngestWorker([queue], connection=queue.connection).work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert count_events(db) == 5
