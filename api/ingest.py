"""POST /events: validate each event, queue the valid ones as one RQ job, answer at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, NamedTuple

import orjson
import redis
import structlog
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from rq import Queue
from rq.job import JobStatus

from api.body import check_json_content_type, duplicate_key, read_limited_body
from api.deps import QueueDep, SettingsDep
from api.models import EXAMPLE_EVENTS, Detail, EventIn, IngestResult
from core.events import EventError, validate_event
from core.metrics import count_ingest
from core.settings import Settings
from jobs.queue import Enqueued, enqueue_batch
from loaders.writer import Row

log = structlog.get_logger(__name__)
router = APIRouter(tags=["ingest"])

REQUEST_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                # maxItems is the configured limit: filled in by `document_limits`
                "schema": {"type": "array", "items": EventIn.model_json_schema(), "minItems": 1},
                "example": EXAMPLE_EVENTS,
            }
        },
    }
}


def document_limits(schema: dict[str, Any], settings: Settings) -> None:
    """Write this process's configured request limits into its OpenAPI document."""
    body = schema["paths"]["/events"]["post"]["requestBody"]
    body["content"]["application/json"]["schema"]["maxItems"] = settings.max_events_per_request
    body["description"] = (
        f"A JSON array of at most {settings.max_events_per_request} events and at most "
        f"{settings.max_body_bytes} bytes (after gzip decoding)."
    )


def parse_events(body: bytes, max_events: int) -> list[Any]:
    """The request's JSON array, or a 400/413 that says what is wrong with the body."""
    try:
        events = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"body: not valid UTF-8 JSON ({exc})"
        ) from None
    if not isinstance(events, list):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body: must be a JSON array of events")
    duplicate = duplicate_key(body)
    if duplicate is not None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"body: duplicate key {duplicate[:64]!r} in one JSON object",
        )
    if not events:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body: the array is empty")
    if len(events) > max_events:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"body: {len(events)} events is more than the limit of {max_events} per request",
        )
    return events


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


def _service_unavailable(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, reason, headers={"Retry-After": "5"})


def queue_rows(
    queue: Queue, rows: list[Row], settings: Settings, request_id: str | None
) -> Enqueued:
    """Queue the batch or raise 503 (backlog too deep, Redis down): nothing half-accepted."""
    try:
        if queue.count >= settings.max_queue_depth:
            raise _service_unavailable(
                f"queue backlog over {settings.max_queue_depth} batches; retry later"
            )
        return enqueue_batch(queue, rows, settings, request_id)
    except redis.RedisError as exc:
        log.warning("queue_unavailable", error=str(exc))
        raise _service_unavailable("queue unavailable; retry later") from None


def wait_for_landing(enqueued: Enqueued, accepted: int, timeout: float) -> dict[str, Any]:
    """Block up to `timeout` seconds for the job; report what it inserted."""
    job = enqueued.job
    if not enqueued.new and job.get_status(refresh=True) == JobStatus.FINISHED:
        # An identical batch landed before this request: every event was already stored.
        return {"landed": True, "inserted": 0, "duplicates": accepted}
    result = job.latest_result(timeout=max(1, int(timeout)))
    if result is None or result.type != result.Type.SUCCESSFUL:
        return {"landed": False}
    counts: dict[str, int] = result.return_value or {}
    return {"landed": True, "inserted": counts["inserted"], "duplicates": counts["duplicates"]}


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestResult,
    response_model_exclude_none=True,
    openapi_extra=REQUEST_BODY_DOC,
    responses={
        422: {
            "description": "no event in the array is valid (or a malformed query parameter)",
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/IngestResult"},
                            {"$ref": "#/components/schemas/HTTPValidationError"},
                        ]
                    }
                }
            },
        },
        400: {"model": Detail},
        408: {"model": Detail, "description": "the body did not arrive in time"},
        413: {"model": Detail},
        415: {"model": Detail},
        503: {"model": Detail},
    },
    summary="Ingest a batch of events",
)
async def post_events(
    request: Request,
    settings: SettingsDep,
    queue: QueueDep,
    wait: Annotated[bool, Query(description="wait until the events are in raw.events")] = False,
) -> Response:
    received_at = datetime.now(UTC)
    check_json_content_type(request)
    body = await read_limited_body(request, settings.max_body_bytes, settings.body_timeout)
    events = parse_events(body, settings.max_events_per_request)
    rows, duplicates, rejected, reasons = triage(events, received_at, settings, b"\\u0000" in body)
    result: dict[str, Any] = {
        "accepted": len(rows),
        "duplicates_in_request": duplicates,
        "rejected": rejected,
    }
    if not rows:
        count_ingest(0, duplicates, reasons)
        return _json(result, status.HTTP_422_UNPROCESSABLE_CONTENT)
    request_id = getattr(request.state, "request_id", None)
    enqueued = await asyncio.to_thread(queue_rows, queue, rows, settings, request_id)
    count_ingest(len(rows), duplicates, reasons)
    log.info(
        "events_accepted",
        accepted=len(rows),
        rejected=len(rejected),
        duplicates_in_request=duplicates,
        job_id=enqueued.job.id,
        new_job=enqueued.new,
    )
    if wait:
        timeout = settings.wait_timeout
        result |= await asyncio.to_thread(wait_for_landing, enqueued, len(rows), timeout)
    return _json(result, status.HTTP_202_ACCEPTED)


def _json(content: dict[str, Any], status_code: int) -> Response:
    return Response(orjson.dumps(content), status_code, media_type="application/json")
