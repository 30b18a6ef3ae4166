"""Enqueue accepted batches: one RQ job per request, its id derived from the batch content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
import redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus

from core.settings import Settings
from jobs.ingest import batch_key, land_batch, land_rejects
from loaders.rejects import Reject
from loaders.writer import Row

RETRYABLE_DEAD_STATES = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def ingest_queue(connection: redis.Redis, settings: Settings) -> Queue:
    """The queue the API fills and the workers drain."""
    return Queue(settings.queue_name, connection=connection)


def batch_job_id(rows: list[Row]) -> str:
    """A stable id for a batch: the same events in the same order give the same id.

    received_at (the last column) is left out, so a retried POST maps to the same job.
    """
    digest = hashlib.sha256(orjson.dumps([row[:5] for row in rows])).hexdigest()
    return f"batch-{digest[:40]}"


@dataclass(frozen=True)
class Enqueued:
    """The job holding a batch; `new` is False when an identical batch was already queued."""

    job: Job
    new: bool


def job_options(settings: Settings) -> dict[str, Any]:
    """Retry, time-out and result-keeping options every ingest job shares."""
    return {
        "retry": Retry(
            max=len(settings.job_retry_intervals), interval=settings.job_retry_intervals
        ),
        "job_timeout": settings.job_timeout_seconds,
        "result_ttl": settings.job_result_ttl_seconds,
        "failure_ttl": settings.job_failure_ttl_seconds,
    }


def enqueue_batch(
    queue: Queue, rows: list[Row], settings: Settings, request_id: str | None = None
) -> Enqueued:
    """Queue one batch as one job; an identical batch still pending or done is not queued again."""
    job_id = batch_job_id(rows)
    key = batch_key(job_id)
    # The rows live beside the job, not inside it: RQ re-compresses a job's arguments on
    # every save, which cost more than landing the batch. NX keeps a pending copy as it is.
    queue.connection.set(key, orjson.dumps(rows), ex=settings.batch_payload_ttl_seconds, nx=True)
    options = {
        "job_id": job_id,
        "unique": True,
        **job_options(settings),
        "meta": {"request_id": request_id, "events": len(rows)},
        "description": f"land {len(rows)} events",
    }
    try:
        return Enqueued(queue.enqueue(land_batch, key, **options), new=True)
    except DuplicateJobError:
        existing = Job.fetch(job_id, connection=queue.connection)
        status = existing.get_status(refresh=True)
        if status == JobStatus.FINISHED:
            queue.connection.delete(key)  # landed before; the copy set above is not needed
        if status not in RETRYABLE_DEAD_STATES:
            return Enqueued(existing, new=False)
        # The earlier copy gave up for good: this retry must land the events after all.
        existing.delete()
        return Enqueued(queue.enqueue(land_batch, key, **options), new=True)


def enqueue_rejects(queue: Queue, rejects: list[Reject], settings: Settings) -> Job:
    """Queue the rejects of one capture request (writing them again later changes nothing)."""
    digest = hashlib.sha256(orjson.dumps(sorted(r["reject_id"] for r in rejects))).hexdigest()
    options = {
        "job_id": f"rejects-{digest[:40]}",
        **job_options(settings),
        "description": f"record {len(rejects)} rejected capture messages",
    }
    return queue.enqueue(land_rejects, rejects, **options)
