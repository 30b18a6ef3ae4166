"""Segment / RudderStack HTTP Tracking API at the root: POST /v1/batch and /v1/<type>.

segment-node drops any path prefix of its host, so these live at the root. Over the rate
limit the answer is 429 with Retry-After, which every Segment and RudderStack SDK retries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.capture.keys import presented_keys
from api.capture.pipeline import Clients, Unwrap, Unwrapped, Wire, bad_request, capture
from api.capture.segment_mapping import MESSAGE_TYPES, map_segment, segment_batch
from api.deps import QueueDep, RateLimiterDep, SettingsDep

router = APIRouter(tags=["capture"], include_in_schema=False)
SEGMENT = Wire("segment", "messageId", status.HTTP_429_TOO_MANY_REQUESTS, {"success": True})


def unwrap_batch(payload: Any, request: Request, received_at: datetime) -> Unwrapped:
    """`{"batch": [...], "sentAt", "writeKey", "context"}`, or a bare array of messages."""
    wrapper: dict[str, Any] = {}
    if isinstance(payload, list):
        messages = payload
    elif isinstance(payload, dict) and isinstance(payload.get("batch"), list):
        wrapper, messages = payload, payload["batch"]
    else:
        raise bad_request("body: must be an object with a `batch` array of messages")
    batch = segment_batch(wrapper, received_at)
    return Unwrapped(
        messages,
        presented_keys(request, [wrapper.get("writeKey")]),
        lambda message: map_segment(message, None, batch),
    )


def unwrap_single(kind: str) -> Unwrap:
    """/v1/track, /v1/identify, …: the body is one message of that type."""

    def unwrap(payload: Any, request: Request, received_at: datetime) -> Unwrapped:
        if not isinstance(payload, dict):
            raise bad_request(f"body: must be one {kind} message (a JSON object)")
        return Unwrapped(
            [payload],
            presented_keys(request, [payload.get("writeKey")]),
            lambda message: map_segment(message, kind, segment_batch({}, received_at)),
        )

    return unwrap


def _endpoint(unwrap: Unwrap) -> Callable[..., Awaitable[Response]]:
    async def endpoint(
        request: Request, settings: SettingsDep, queue: QueueDep, limiter: RateLimiterDep
    ) -> Response:
        return await capture(request, Clients(settings, queue, limiter), SEGMENT, unwrap)

    return endpoint


router.add_api_route("/v1/batch", _endpoint(unwrap_batch), methods=["POST"], name="segment_batch")
for _kind in MESSAGE_TYPES:
    router.add_api_route(
        f"/v1/{_kind}", _endpoint(unwrap_single(_kind)), methods=["POST"], name=f"segment_{_kind}"
    )
