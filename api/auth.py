"""API keys and per-client rate limits as FastAPI dependencies.

`require_write_key` guards POST /events, `require_read_key` guards /stats/*. Each one
1. reads `Authorization: Bearer <key>` and compares it in constant time with every key of
   its kind (a write key is not a read key unless listed in both);
2. counts the request against its rate limit (`ingest` or `reads`), per valid key, else per
   client address, so a client guessing keys is throttled too;
3. answers 401 (no key), 403 (wrong key) or 429 (over the limit).
With no keys of its kind configured the route is open (a warning is logged at start).
"""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum
from typing import Any

import structlog
from fastapi import HTTPException, Request, status

from api.deps import RateLimiterDep, SettingsDep
from api.models import Detail
from api.ratelimit import Decision, RateLimiter
from core.metrics import RATE_LIMITED
from core.settings import Settings

log = structlog.get_logger(__name__)

# Values that are obviously not real secrets; production refuses them (and anything short).
PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "placeholder", "example", "dummy")
PLACEHOLDER_KEYS = {"secret", "password", "test", "key", "apikey", "api-key", "token", "todo"}
MIN_PRODUCTION_KEY_CHARS = 16


# OpenAPI documentation of what a guard may answer (include_router(..., responses=...)).
RATE_LIMIT_HEADERS = {
    "Retry-After": {
        "description": "seconds until a retry may succeed",
        "schema": {"type": "integer"},
    },
    "RateLimit-Policy": {
        "description": 'e.g. `"ingest";q=1000;w=60`',
        "schema": {"type": "string"},
    },
    "RateLimit": {"description": 'e.g. `"ingest";r=0;t=17`', "schema": {"type": "string"}},
}
GUARD_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Detail, "description": "no API key (`Authorization: Bearer <key>`)"},
    403: {"model": Detail, "description": "the API key may not use this route"},
    429: {"model": Detail, "description": "over the rate limit", "headers": RATE_LIMIT_HEADERS},
}


class KeyStatus(Enum):
    OPEN = "open"  # no keys of this kind configured
    MISSING = "missing"
    WRONG = "wrong"
    VALID = "valid"


def key_id(key: str) -> str:
    """A short, non-reversible name for a key, for rate-limit buckets and logs."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def matches_any(token: str, keys: list[str]) -> bool:
    """Constant-time comparison against every key (no early exit on the first match)."""
    presented = token.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(presented, key.encode())
    return found


def check_key(request: Request, keys: list[str]) -> tuple[KeyStatus, str | None]:
    if not keys:
        return KeyStatus.OPEN, None
    token = bearer_token(request)
    if token is None:
        return KeyStatus.MISSING, None
    if matches_any(token, keys):
        return KeyStatus.VALID, key_id(token)
    return KeyStatus.WRONG, None


def client_address(request: Request, trusted_proxy_header: str | None) -> str:
    """The trusted proxy's view of the client (the header's last entry), else the peer."""
    if trusted_proxy_header:
        value = request.headers.get(trusted_proxy_header)
        if value:
            last = value.split(",")[-1].strip()
            if last:
                return last
    return request.client.host if request.client else "unknown"


async def _guard(
    request: Request, settings: Settings, limiter: RateLimiter, keys: list[str], policy: str
) -> None:
    key_status, identity = check_key(request, keys)
    if identity is None:
        identity = "addr:" + client_address(request, settings.trusted_proxy_header)
    request.state.client = identity
    decision: Decision | None = await limiter.hit(policy, identity)
    if decision is not None and not decision.allowed:
        RATE_LIMITED.labels(policy).inc()
        log.info("rate_limited", policy=policy, client=identity)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit exceeded ({policy}); retry later",
            headers=decision.headers,
        )
    rate_headers = decision.headers if decision is not None else {}
    if key_status is KeyStatus.MISSING:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer", **rate_headers},
        )
    if key_status is KeyStatus.WRONG:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this API key may not use this route", headers=rate_headers
        )
    request.state.extra_headers.update(rate_headers)


async def require_write_key(
    request: Request, settings: SettingsDep, limiter: RateLimiterDep
) -> None:
    """Write key + ingest rate limit (`EVENTMART_WRITE_KEYS`, `EVENTMART_RATE_LIMIT`)."""
    await _guard(request, settings, limiter, settings.write_keys, "ingest")


async def read_guard(request: Request, settings: Settings, limiter: RateLimiter) -> None:
    """Read key + read rate limit (`EVENTMART_READ_KEYS`, `EVENTMART_READ_RATE_LIMIT`)."""
    await _guard(request, settings, limiter, settings.read_keys, "reads")


async def require_read_key(
    request: Request, settings: SettingsDep, limiter: RateLimiterDep
) -> None:
    """`read_guard` as a route dependency."""
    await read_guard(request, settings, limiter)


def is_placeholder(key: str) -> bool:
    lowered = key.lower()
    return (
        lowered in PLACEHOLDER_KEYS
        or any(word in lowered for word in PLACEHOLDER_WORDS)
        or len(set(lowered)) <= 2  # "xxxxxxxx…", "00000000…"
        or len(key) < MIN_PRODUCTION_KEY_CHARS
    )


class InsecureConfigError(RuntimeError):
    """The API must not start with this configuration."""


def check_keys_config(settings: Settings, *, warn: bool = True) -> None:
    """Refuse production without real keys; elsewhere, warn about every open route group."""
    missing = [
        name
        for name, keys in (
            ("EVENTMART_WRITE_KEYS", settings.write_keys),
            ("EVENTMART_READ_KEYS", settings.read_keys),
        )
        if not keys
    ]
    if settings.production:
        problems = [f"{name} is not set" for name in missing]
        weak = [k for k in (*settings.write_keys, *settings.read_keys) if is_placeholder(k)]
        if weak:
            problems.append(
                f"{len(weak)} key(s) look like placeholders or are shorter than "
                f"{MIN_PRODUCTION_KEY_CHARS} characters"
            )
        if problems:
            raise InsecureConfigError(
                "EVENTMART_ENV=production refuses to start: " + "; ".join(problems)
            )
    for name in missing if warn else ():
        log.warning("api_keys_not_configured", variable=name, effect="routes are open")
