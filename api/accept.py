"""Validate a request's events and queue the valid ones: shared by /events and the capture routes.

Every route that takes events (native `/events`, the Segment/RudderStack and PostHog capture
routes in `api/capture/`) runs them through `triage` (the one rule set, `core.events`) and
`queue_rows` (one RQ job per batch), so an event means the same thing whichever way it came.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import redis
import structlog
from fastapi import HTTPException, status
from rq import Queue

from core.events import EventError, validate_event
from core.settings import Settings
from jobs.queue import Enqueued, enqueue_batch
from loaders.writer import Row

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 5


class Triage(NamedTuple):
    """One request split by the event rules."""

    rows: list[Row]  # first valid copy of each event_id, in request order
    duplicates: int  # later valid copies of an id already in `rows`
    rejected: list[dict[str, Any]]  # the answer's `rejected` items
    reasons: list[str]  # `field: rule` of each rejection, for the metrics


def triage(
    events: list[Any], received_at: datetime, settings: Settings, may_contain_nul: bool
) -> Triage:
    """Split a request into rows to queue (first copy of each id), duplicates, rejections."""
    rows: dict[str, Row] = {}
    duplicates = 0
    rejected: list[dict[str, Any]] = []
    reasons: list[str] = []
    for index, raw in enumerate(events):
        try:
            ev = validate_event(
                raw, received_at, settings.max_future_skew, may_contain_nul=may_contain_nul
            )
        except EventError as exc:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            rejected.append(
                {
                    "index": index,
                    "event_id": event_id if isinstance(event_id, str) else None,
                    "error": str(exc),
                }
            )
            reasons.append(exc.reason)
            continue
        if ev.event_id in rows:
            duplicates += 1
            continue
        rows[ev.event_id] = (
            ev.event_id,
            ev.user_id,
            ev.event_type,
            ev.occurred_at,
            ev.properties_json,
            received_at,
        )
    return Triage(list(rows.values()), duplicates, rejected, reasons)


def service_unavailable(reason: str) -> HTTPException:
    """503 with Retry-After: the client should send the same request again later."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        reason,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def check_queue_room(queue: Queue, settings: Settings) -> None:
    """503 when the backlog is over `max_queue_depth` (or Redis cannot be reached)."""
    try:
        depth = queue.count
    except redis.RedisError as exc:
        log.warning("queue_unavailable", error=str(exc))
        raise service_unavailable("queue unavailable; retry later") from None
    if depth >= settings.max_queue_depth:
        raise service_unavailable(
            f"queue backlog over {settings.max_queue_depth} batches; retry later"
        )


def queue_rows(
    queue: Queue, rows: list[Row], settings: Settings, request_id: str | None
) -> Enqueued:
    """Queue the batch or raise 503 (backlog too deep, Redis down): nothing half-accepted."""
    check_queue_room(queue, settings)
    try:
        return enqueue_batch(queue, rows, settings, request_id)
    except redis.RedisError as exc:
        log.warning("queue_unavailable", error=str(exc))
        raise service_unavailable("queue unavailable; retry later") from None
