"""`eventmart worker`: an RQ worker on the ingest queue, with RQ's scheduler for retries."""

from __future__ import annotations

from rq import SimpleWorker

from core.redis_conn import connect_redis
from core.settings import Settings
from jobs.queue import ingest_queue


class IngestWorker(SimpleWorker):
    """Runs jobs in-process (no fork per job) so the worker keeps one open PostgreSQL
    connection; a batch job is short and its writer is idempotent."""


def run_worker(settings: Settings, *, burst: bool = False) -> bool:
    """Work the ingest queue until stopped (or until empty with `burst`)."""
    connection = connect_redis(settings)
    queue = ingest_queue(connection, settings)
    worker = IngestWorker([queue], connection=connection)
    return worker.work(burst=burst, with_scheduler=True)
