"""A request body must arrive within EVENTMART_BODY_TIMEOUT: a slow drip gets 408, not a hang."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from api.body import read_limited_body
from core.settings import Settings


def dripping_request(chunks: int, pause: float) -> Request:
    """A POST whose body arrives one byte every `pause` seconds."""
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        await asyncio.sleep(pause)
        sent += 1
        return {"type": "http.request", "body": b" ", "more_body": sent < chunks}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/events",
        "headers": [(b"content-type", b"application/json")],
    }
    return Request(scope, receive)


def test_slow_drip_body_gets_408_at_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(HTTPException) as caught:
        asyncio.run(read_limited_body(dripping_request(10_000, 0.05), 1024, timeout=0.5))
    assert caught.value.status_code == 408
    assert "0.5 s" in caught.value.detail
    assert time.monotonic() - started < 2


def test_body_within_the_deadline_is_read() -> None:
    body = asyncio.run(read_limited_body(dripping_request(3, 0.01), 1024, timeout=5))
    assert body == b"   "


def test_body_timeout_setting_takes_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTMART_BODY_TIMEOUT", "2m")
    assert Settings().body_timeout == 120
    monkeypatch.delenv("EVENTMART_BODY_TIMEOUT")
    assert Settings().body_timeout == 30
