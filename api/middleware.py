"""Per-request context: a request id on every log line, request metrics, one access-log line."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = structlog.get_logger("api.access")

REQUEST_ID_HEADER = "x-request-id"
# A client's id is kept only if it is short and plain, so it cannot forge log content.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
# Probes and scrapes would drown the access log at INFO.
_QUIET_ROUTES = {"/health", "/ready", "/metrics"}
# Label values stay a closed set whatever clients send.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when it is acceptable, else a fresh one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/stats/dau`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Pure ASGI (no response buffering): binds `request_id` in structlog's contextvars,
    echoes it as `X-Request-ID`, adds headers that guards left in `scope["state"]`
    (`extra_headers`, e.g. RateLimit), counts the request, and turns an unhandled error
    into a logged traceback and a 500 that still carries the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["extra_headers"] = {}
        status = 500
        response_started = False
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                for name, value in state["extra_headers"].items():
                    headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                # Logged here, as JSON with the request id; the client gets the id to quote.
                log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                if response_started:
                    raise
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send_with_headers(
                    {"type": "http.response.body", "body": b'{"detail":"internal server error"}'}
                )
            finally:
                elapsed = time.perf_counter() - started
                method = scope["method"] if scope["method"] in _METHODS else "other"
                route = route_template(scope)
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_LATENCY.labels(method, route).observe(elapsed)
                level = "debug" if route in _QUIET_ROUTES and status < 400 else "info"
                getattr(log, level)(
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 1),
                    client=state.get("client"),  # a key's short hash or the address, if guarded
                )
