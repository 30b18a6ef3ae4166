"""One capture request end to end: body -> messages -> key check -> native events -> queue.

Both protocols differ only in how a body is unwrapped and how a message maps (`Unwrapped`);
the rest is shared with POST /events: `api.accept.triage` (the one rule set) and
`api.accept.queue_rows` (one RQ job per batch). Invalid messages do not fail the request:
they are queued for raw.rejects and counted in eventmart_events_rejected_total.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
import structlog
from fastapi import HTTPException, Request, Response, status
from rq import Queue

from api.accept import check_queue_room, queue_rows, service_unavailable, triage
from api.capture.answers import error_response, json_response
from api.capture.body import read_capture_json
from api.capture.keys import guard_capture
from api.ratelimit import RateLimiter
from core.events import EventError
from core.metrics import count_ingest
from core.settings import Settings
from jobs.queue import enqueue_rejects
from loaders.rejects import Reject, make_reject
from loaders.writer import Row

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Wire:
    """What differs between the two protocol families besides the body shape."""

    source: str  # raw.rejects.source
    id_field: str  # the message's own id, for rejects
    limited_status: int  # answer when over the rate limit
    ok_body: dict[str, Any]  # the success body the SDKs expect


@dataclass(frozen=True)
class Unwrapped:
    """A body's messages, the keys it carries, and how one message becomes a native event."""

    messages: list[Any]
    keys: list[str]
    to_event: Callable[[Any], dict[str, Any]]


Unwrap = Callable[[Any, Request, datetime], Unwrapped]


def bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail)


def check_count(messages: list[Any], settings: Settings) -> None:
    if not messages:
        raise bad_request("body: the batch is empty")
    if len(messages) > settings.max_events_per_request:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"body: {len(messages)} events is more than the limit of "
            f"{settings.max_events_per_request} per request",
        )


@dataclass(frozen=True)
class Clients:
    """The route's dependencies (`api.deps`), handed on to the shared steps."""

    settings: Settings
    queue: Queue
    limiter: RateLimiter


async def capture(request: Request, clients: Clients, wire: Wire, unwrap: Unwrap) -> Response:
    """Answer one capture request: 200 with counts, or a `code`/`message`/`detail` error."""
    settings = clients.settings
    received_at = datetime.now(UTC)
    try:
        payload, may_contain_nul = await read_capture_json(request, settings)
        unwrapped = unwrap(payload, request, received_at)
        await guard_capture(request, settings, clients.limiter, unwrapped.keys, wire.limited_status)
        check_count(unwrapped.messages, settings)
        counts = await accept(request, clients, wire, unwrapped, received_at, may_contain_nul)
    except HTTPException as exc:
        return error_response(exc)
    return json_response({**wire.ok_body, **counts})


def _id_of(message: Any, field: str) -> str | None:
    value = message.get(field) if isinstance(message, dict) else None
    return value if isinstance(value, str) else None


async def accept(
    request: Request,
    clients: Clients,
    wire: Wire,
    unwrapped: Unwrapped,
    received_at: datetime,
    may_contain_nul: bool,
) -> dict[str, int]:
    """Map, validate and queue the messages; invalid ones become rejects."""
    events: list[dict[str, Any]] = []
    sent: list[Any] = []
    rejects: list[Reject] = []
    reasons: list[str] = []  # `field: rule` of each reject, for the metrics
    for message in unwrapped.messages:
        try:
            events.append(unwrapped.to_event(message))
        except EventError as exc:
            message_id = _id_of(message, wire.id_field)
            rejects.append(make_reject(wire.source, message, message_id, str(exc), received_at))
            reasons.append(exc.reason)
            continue
        sent.append(message)
    settings = clients.settings
    rows, duplicates, rejected, rules = triage(events, received_at, settings, may_contain_nul)
    rejects += [
        make_reject(wire.source, sent[r["index"]], r["event_id"], r["error"], received_at)
        for r in rejected
    ]
    reasons += rules
    request_id = getattr(request.state, "request_id", None)
    await asyncio.to_thread(queue_all, clients.queue, rows, rejects, settings, request_id)
    count_ingest(len(rows), duplicates, reasons)
    log.info(
        "capture_accepted",
        source=wire.source,
        accepted=len(rows),
        rejected=len(rejects),
        duplicates_in_request=duplicates,
    )
    return {"accepted": len(rows), "rejected": len(rejects), "duplicates_in_request": duplicates}


def queue_all(
    queue: Queue, rows: list[Row], rejects: list[Reject], settings: Settings, request_id: str | None
) -> None:
    """Queue the rejects, then the rows; 503 before either when the queue has no room."""
    check_queue_room(queue, settings)
    if rejects:
        try:
            enqueue_rejects(queue, rejects, settings)
        except redis.RedisError as exc:
            log.warning("queue_unavailable", error=str(exc))
            raise service_unavailable("queue unavailable; retry later") from None
    if rows:
        queue_rows(queue, rows, settings, request_id)
