"""The RQ job that lands one accepted POST batch in raw.events through the raw writer."""

from __future__ import annotations

import orjson
import psycopg
import redis
import structlog
from rq import get_current_job

from core.db import connect
from core.metrics import ROWS_DUPLICATE, ROWS_INSERTED
from core.settings import get_settings
from loaders.rejects import Reject, write_rejects
from loaders.writer import Row, write_events

log = structlog.get_logger(__name__)

_connection: psycopg.Connection | None = None


def _db() -> psycopg.Connection:
    """One connection per worker process, reopened after a failure."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = connect(get_settings())
    return _connection


def reset_connection() -> None:
    """Close the worker's connection (after an error, or between tests)."""
    global _connection
    if _connection is not None:
        _connection.close()
    _connection = None


def decode_batch(payload: bytes) -> list[Row]:
    """Rows from the queued payload (a JSON array of 6-element arrays)."""
    return [tuple(r) for r in orjson.loads(payload)]


def batch_key(job_id: str) -> str:
    """The Redis key holding a queued batch's rows until they have landed."""
    return f"eventmart:batch:{job_id}"


def land_batch(key: str, connection: redis.Redis | None = None) -> dict[str, int]:
    """Write one batch exactly once; safe to run again (retried rows count as duplicates).

    The rows are deleted from Redis only after their COMMIT, so a retry that finds them gone
    (the worker died between the two) has nothing left to land.
    """
    job = get_current_job()
    connection = connection or (job.connection if job else None)
    if connection is None:
        raise RuntimeError("land_batch runs in an RQ job or is given a Redis connection")
    payload = connection.get(key)
    if payload is None:
        events = int((job.meta or {}).get("events", 0)) if job else 0
        log.warning("batch_already_landed", key=key)
        return {"inserted": 0, "duplicates": events}
    rows = decode_batch(payload)
    try:
        result = write_events(_db(), rows)
    except psycopg.OperationalError:
        reset_connection()  # the next try reconnects; RQ's Retry schedules it
        raise
    connection.delete(key)
    ROWS_INSERTED.labels("api").inc(result.inserted)
    ROWS_DUPLICATE.labels("api").inc(result.duplicates)
    log.info(
        "batch_landed", rows=result.rows, inserted=result.inserted, duplicates=result.duplicates
    )
    return {"inserted": result.inserted, "duplicates": result.duplicates}


def land_rejects(rejects: list[Reject]) -> dict[str, int]:
    """Keep a capture request's invalid messages in raw.rejects (idempotent, like land_batch)."""
    try:
        inserted = write_rejects(_db(), rejects)
    except psycopg.OperationalError:
        reset_connection()
        raise
    log.info("rejects_recorded", rejects=len(rejects), inserted=inserted)
    return {"inserted": inserted, "duplicates": len(rejects) - inserted}
