"""`eventmart worker`: an RQ worker on the ingest queue, with RQ's scheduler for retries."""

from __future__ import annotations

import time

import structlog
from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.job import Job

from core.metrics import JOB_DURATION, serve_metrics
from core.redis_conn import connect_redis
from core.settings import Settings
from jobs.queue import ingest_queue

log = structlog.get_logger(__name__)


class IngestWorker(SimpleWorker):
    """Runs jobs in-process (no fork per job) so the worker keeps one open PostgreSQL
    connection; a batch job is short and its writer is idempotent.

    Every log line of a job (ours and RQ's) carries its job id, batch size and the id of
    the request that queued it; the run time goes to `eventmart_job_duration_seconds`."""

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        meta = job.meta or {}
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(
            job_id=job.id, request_id=meta.get("request_id"), batch_size=meta.get("events")
        ):
            ok = False
            try:
                ok = super().perform_job(job, queue, execution)
            finally:
                outcome = "success" if ok else "failure"
                JOB_DURATION.labels(
                    (job.func_name or "unknown").rpartition(".")[2], outcome
                ).observe(time.perf_counter() - started)
        return ok

    @property
    def dequeue_timeout(self) -> int:
        # RQ blocks an idle worker for ~400 s between maintenance passes; wake up at least once
        # per maintenance interval so that abandoned jobs are retried on time.
        return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))


def run_worker(settings: Settings, *, burst: bool = False) -> bool:
    """Work the ingest queue until stopped (or until empty with `burst`)."""
    if settings.metrics_port:
        serve_metrics(settings.metrics_port)
        log.info("metrics_listening", port=settings.metrics_port)
    connection = connect_redis(settings)
    queue = ingest_queue(connection, settings)
    worker = IngestWorker(
        [queue], connection=connection, maintenance_interval=settings.worker_maintenance_interval
    )
    return worker.work(burst=burst, with_scheduler=True)
