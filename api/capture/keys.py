"""Write keys however an SDK carries them: Basic-auth user name, Bearer, or in the body.

Segment and RudderStack send the write key as the Basic-auth user name (and segment also as
`writeKey` in the body); PostHog sends `api_key` in the body or `properties.token` in each
event. Every key presented must be one of EVENTMART_WRITE_KEYS; the rules and rate limit of
POST /events apply (`api.auth.enforce`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from fastapi import Request

from api.auth import bearer_token, check_tokens, enforce
from api.ratelimit import RateLimiter
from core.settings import Settings

MISSING_KEY = (
    "missing write key: send it as the Basic-auth user name, `writeKey` or `api_key` in the "
    "body, or Authorization: Bearer <key>"
)


def header_key(request: Request) -> str | None:
    """The key in an Authorization header: the Basic user name (else password), or Bearer."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return bearer_token(request)
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user or password or None


def presented_keys(request: Request, body_values: Iterable[Any]) -> list[str]:
    """Every distinct key the request carries, the header's first."""
    found: list[str] = []
    for value in (header_key(request), *body_values):
        if isinstance(value, str) and value and value not in found:
            found.append(value)
    return found


async def guard_capture(
    request: Request,
    settings: Settings,
    limiter: RateLimiter,
    keys: list[str],
    limited_status: int,
) -> None:
    """401/403 as on POST /events; over the ingest rate limit, `limited_status`."""
    await enforce(
        request,
        settings,
        limiter,
        check_tokens(keys, settings.write_keys),
        "ingest",
        missing=MISSING_KEY,
        limited_status=limited_status,
    )
