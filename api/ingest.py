"""POST /events: validate each event, queue the valid ones as one RQ job, answer at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from rq.job import JobStatus

from api.accept import queue_rows, triage
from api.body import check_json_content_type, duplicate_key, read_limited_body
from api.deps import QueueDep, SettingsDep
from api.models import EXAMPLE_EVENTS, Detail, EventIn, IngestResult
from core.metrics import count_ingest
from core.settings import Settings
from jobs.queue import Enqueued

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
