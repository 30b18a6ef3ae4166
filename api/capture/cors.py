"""CORS for the capture routes only (browsers' posthog-js), from EVENTMART_CORS_ORIGINS.

Starlette's CORSMiddleware answers preflights and adds the headers; this wrapper applies it
to the capture paths and leaves /events, /stats and the operations routes as they were.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.capture.posthog import CAPTURE_PATHS

CAPTURE_PREFIXES = ("/v1/", "/flags", "/decide", "/array/")


def is_capture_path(path: str) -> bool:
    return path in CAPTURE_PATHS or path.startswith(CAPTURE_PREFIXES)


class CaptureCORSMiddleware:
    """CORSMiddleware for capture paths; every other request passes straight through."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_capture_path(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
