"""uvicorn's HTTP protocol with a deadline for each request's head (slow-header clients).

uvicorn bounds idle keep-alive connections but not a request line and headers that arrive a
byte at a time, so one client could hold connections open for ever (slowloris). Here the head
must be complete within EVENTMART_HEADER_TIMEOUT of the connection opening or of the request's
first byte; otherwise the connection is closed. The body has its own deadline (api/body.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import get_settings

# How `eventmart serve` runs uvicorn (benchmark.py serves its reference apps the same way).
UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,  # keep our JSON logging
    "access_log": False,
    "proxy_headers": False,  # client addresses: see EVENTMART_TRUSTED_PROXY_HEADER
    "http": "api.server:HeadDeadlineProtocol",  # slow request heads are cut off
}


class HeadDeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that closes a connection whose request head is too slow."""

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_head_deadline()
        super().on_headers_complete()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        timeout = get_settings().header_timeout
        self._head_deadline = self.loop.call_later(timeout, self._head_too_slow)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
