"""Repeats of a /stats request served without routing: the cheap path for dashboards.

A GET /stats/* answer is kept in the process's `ReadCache` under the request as sent (path,
query string, Accept; `api.stats.response_key`) for the refresh it was read at. A repeat
within that refresh is answered here, before FastAPI routes and validates it: the read key
and the rate limit are checked by the same guard as every /stats route, and `meta` (so
`lag_seconds`) is rendered afresh. Anything else — a first request, a stale freshness look,
an error — goes through the app as usual.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import read_guard
from api.stats import KeptResponse, response_key


class FastReadsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"][:7] == "/stats/":
            state = scope["app"].state
            key = response_key(scope)
            hit = state.read_cache.peek(lambda _: key)
            if hit is not None:
                kept: KeptResponse = hit[1]
                scope["route"] = kept.route  # metrics and the access log name the route
                response: Response
                try:
                    await read_guard(Request(scope), state.settings, state.rate_limiter)
                    response = kept.render()
                except HTTPException as exc:  # as FastAPI's own handler answers it
                    response = JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
