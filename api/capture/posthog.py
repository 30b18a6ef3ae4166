"""PostHog capture: POST /batch, /capture, /e (each with and without `/`) and /i/v0/e/.

Over the rate limit the answer is 503 with Retry-After, never 429: posthog-js drops a batch
answered 429 for good. The small stubs posthog-js and the server SDKs call on start are in
`api.capture.posthog_stubs`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.capture.clock import posthog_sent_at
from api.capture.keys import presented_keys
from api.capture.pipeline import Clients, Unwrapped, Wire, bad_request, capture
from api.capture.posthog_mapping import map_posthog
from api.deps import QueueDep, RateLimiterDep, SettingsDep

CAPTURE_PATHS = ("/batch", "/batch/", "/capture", "/capture/", "/e", "/e/", "/i/v0/e/")
POSTHOG = Wire("posthog", "uuid", status.HTTP_503_SERVICE_UNAVAILABLE, {"status": 1})

router = APIRouter(tags=["capture"], include_in_schema=False)


def _event_keys(event: Any) -> list[Any]:
    if not isinstance(event, dict):
        return []
    properties = event.get("properties")
    token = properties.get("token") if isinstance(properties, dict) else None
    return [event.get("api_key"), token]


def unwrap_posthog(payload: Any, request: Request, received_at: datetime) -> Unwrapped:
    """`{"api_key", "batch": [...], "sent_at"}`, a bare array (older posthog-js), or one event."""
    wrapper: dict[str, Any] = {}
    if isinstance(payload, list):
        events = payload
    elif isinstance(payload, dict) and "batch" in payload:
        if not isinstance(payload["batch"], list):
            raise bad_request("body: `batch` must be an array of events")
        wrapper, events = payload, payload["batch"]
    elif isinstance(payload, dict):
        wrapper, events = payload, [payload]
    else:
        raise bad_request("body: must be a JSON object or an array of events")
    sent_at = posthog_sent_at(request.query_params.get("_"), wrapper.get("sent_at"))
    keys = [wrapper.get("api_key")] + [key for event in events for key in _event_keys(event)]
    return Unwrapped(
        events,
        presented_keys(request, keys),
        lambda event: map_posthog(event, sent_at, received_at),
    )


async def capture_endpoint(
    request: Request, settings: SettingsDep, queue: QueueDep, limiter: RateLimiterDep
) -> Response:
    return await capture(request, Clients(settings, queue, limiter), POSTHOG, unwrap_posthog)


for _path in CAPTURE_PATHS:
    router.add_api_route(_path, capture_endpoint, methods=["POST"], name=f"posthog{_path}")
