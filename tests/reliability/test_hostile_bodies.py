"""Hostile request bodies: each gets a clear 4xx, the API stays up, its memory stays bounded."""

from __future__ import annotations

import gzip
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest

from tests.reliability.harness import Api, Figures, record, redis_server, service_env

BODY_TIMEOUT = 3  # EVENTMART_BODY_TIMEOUT for this API
HEADER_TIMEOUT = 3  # EVENTMART_HEADER_TIMEOUT for this API
MIB = 1024 * 1024
GOOD = {
    "event_id": "h-1",
    "user_id": "u-1",
    "event_type": "page_view",
    "occurred_at": "2026-11-01T00:00:00Z",
}


def event_body(**fields: Any) -> bytes:
    return orjson.dumps([GOOD | fields])


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def gzip_bomb(inflated: int) -> bytes:
    """`inflated` bytes of a JSON-looking array of zeros, gzip-compressed (~1000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"0" * MIB
    parts = [packer.compress(b"[")]
    parts += [packer.compress(zeros) for _ in range(inflated // MIB)]
    parts.append(packer.compress(b"]") + packer.flush())
    return b"".join(parts)


def chunked(total: int) -> Iterator[bytes]:
    """A body with no Content-Length (chunked), `total` bytes long."""
    yield b'[{"event_id":"'
    for _ in range(total // MIB):
        yield b"x" * MIB
    yield b'"}]'


JSON = {"Content-Type": "application/json"}
CASES: list[tuple[str, dict[str, str], Any, set[int]]] = [
    ("10,000-level nested arrays", JSON, b"[" * 10_000 + b"]" * 10_000, {400}),
    (
        "10,000-level nested object in properties",
        JSON,
        b'[{"event_id":"n","user_id":"u","event_type":"t","occurred_at":"2026-11-01T00:00:00Z",'
        b'"properties":' + nested(10_000) + b"}]",
        {400},
    ),
    (
        "40-level nesting (under the parser limit)",
        JSON,
        event_body(properties=orjson.loads(nested(40))),
        {422},
    ),
    ("10 MB string (Content-Length)", JSON, event_body(event_id="x" * (10 * MIB)), {413}),
    ("10 MB string (chunked, no Content-Length)", JSON, chunked(10 * MIB), {413}),
    ("4 MB string in properties", JSON, event_body(properties={"s": "x" * (4 * MIB)}), {422}),
    ("4 MB event_id", JSON, event_body(event_id="x" * (4 * MIB)), {422}),
    ("number 1e999999", JSON, event_body()[:-2] + b',"properties":{"n":1e999999}}]', {400}),
    (
        "integer of 100,000 digits",
        JSON,
        event_body()[:-2] + b',"properties":{"n":' + b"9" * 100_000 + b"}}]",
        {400},
    ),
    (
        "user_id as a huge number",
        JSON,
        event_body()[:-2].replace(b'"u-1"', b"1" + b"0" * 400) + b"}]",
        {400, 422},
    ),
    (
        "invalid UTF-8",
        JSON,
        event_body(user_id="u-\u00e9").replace(b"\xc3\xa9", b"\xff\xfe"),
        {400},
    ),
    ("lone surrogate (escaped)", JSON, event_body(user_id="@").replace(b"@", b"\\ud800"), {400}),
    (
        "lone surrogate (raw UTF-8 bytes)",
        JSON,
        event_body(user_id="@").replace(b"@", b"\xed\xa0\x80"),
        {400},
    ),
    (
        "duplicate keys",
        JSON,
        b'[{"event_id":"d-1","event_id":"d-2","user_id":"u","event_type":"t","occurred_at":"2026-11-01T00:00:00Z"}]',
        {400},
    ),
    (
        "gzip bomb (1 GiB of zeros)",
        JSON | {"Content-Encoding": "gzip"},
        gzip_bomb(1024 * MIB),
        {413},
    ),
    (
        "truncated gzip",
        JSON | {"Content-Encoding": "gzip"},
        gzip.compress(event_body())[:40],
        {400},
    ),
    ("not JSON", JSON, b"\x00\x01\x02 not json", {400}),
    ("JSON content type missing", {"Content-Type": "text/plain"}, event_body(), {415}),
]


def raw_request(
    port: int, head: bytes, drip: bytes, pause: float, limit: float
) -> tuple[bytes, float]:
    """Send `head`, then `drip` one byte every `pause` s; return (reply, seconds until reply)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        reply = b""
        for byte in drip:
            try:
                chunk = sock.recv(65536)
                if chunk:
                    reply += chunk
                    break
                break  # closed
            except BlockingIOError:
                pass
            if time.monotonic() - started > limit:
                break
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(pause)
        sock.setblocking(True)
        sock.settimeout(max(1.0, limit - (time.monotonic() - started)))
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (TimeoutError, OSError):
            pass
    return reply, time.monotonic() - started


@pytest.mark.timeout(300)
def test_hostile_bodies_get_clear_4xx_and_memory_stays_bounded(
    database: str, workdir: Path
) -> None:
    with redis_server(workdir / "redis") as rds:
        api = Api(
            service_env(
                database,
                rds.url,
                EVENTMART_BODY_TIMEOUT=f"{BODY_TIMEOUT}s",
                EVENTMART_HEADER_TIMEOUT=f"{HEADER_TIMEOUT}s",
            ),
            "hostile-api",
        ).start()
        outcomes: list[dict[str, Any]] = []
        try:
            with httpx2.Client(base_url=api.url, timeout=60) as client:
                client.post("/events", json=[GOOD])  # warm up every code path once
                rss_start = api.rss_kib()
                rss_peak = rss_start
                for name, headers, body, expected in CASES:
                    started = time.monotonic()
                    reply = client.post("/events", content=body, headers=headers)
                    took = time.monotonic() - started
                    rss = api.rss_kib()
                    rss_peak = max(rss_peak, rss)
                    detail = (
                        reply.json().get("detail")
                        if reply.headers.get("content-type", "").startswith("application/json")
                        else None
                    )
                    if detail is None and reply.status_code == 422:
                        detail = reply.json()["rejected"][0]["error"]
                    outcomes.append(
                        {
                            "case": name,
                            "status": reply.status_code,
                            "detail": str(detail)[:120],
                            "seconds": round(took, 2),
                            "rss_mib": round(rss / 1024, 1),
                        }
                    )
                    assert reply.status_code in expected, (
                        name,
                        reply.status_code,
                        reply.text[:300],
                    )
                    assert client.get("/health").status_code == 200, name

                # Slow drip: a declared 1,000-byte body sent at one byte every 0.5 s.
                head = (
                    b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n"
                )
                reply, took = raw_request(api.port, head, b"[" + b" " * 999, 0.5, BODY_TIMEOUT + 20)
                outcomes.append(
                    {
                        "case": "slow-drip body (1 byte / 0.5 s)",
                        "status": int(reply[9:12] or 0),
                        "detail": reply.split(b"\r\n\r\n", 1)[-1][:120].decode(),
                        "seconds": round(took, 2),
                        "rss_mib": round(api.rss_kib() / 1024, 1),
                    }
                )
                assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
                assert took < BODY_TIMEOUT + 5

                # Body never sent at all after the headers.
                reply, took = raw_request(api.port, head, b"", 0, BODY_TIMEOUT + 20)
                outcomes.append(
                    {
                        "case": "headers, then silence",
                        "status": int(reply[9:12] or 0),
                        "detail": reply.split(b"\r\n\r\n", 1)[-1][:120].decode(),
                        "seconds": round(took, 2),
                        "rss_mib": round(api.rss_kib() / 1024, 1),
                    }
                )
                assert reply.startswith(b"HTTP/1.1 408"), reply[:200]

                # Slow request head (slowloris): one byte of a header every 0.5 s; and a
                # connection that never sends anything. Both are closed at the head deadline.
                for name, start, drip in [
                    (
                        "slow headers (1 byte / 0.5 s)",
                        b"POST /events HTTP/1.1\r\nHost: x\r\n",
                        b"X-Drip: 1\r\n" * 20,
                    ),
                    ("connection opened, nothing sent", b"", b""),
                ]:
                    reply, took = raw_request(api.port, start, drip, 0.5, HEADER_TIMEOUT + 20)
                    outcomes.append(
                        {
                            "case": name,
                            "status": 0,
                            "detail": "connection closed" if not reply else reply[:60].decode(),
                            "seconds": round(took, 2),
                            "rss_mib": round(api.rss_kib() / 1024, 1),
                        }
                    )
                    assert reply == b"", reply[:200]
                    assert took < HEADER_TIMEOUT + 3, (name, took)

                assert client.get("/health").status_code == 200
                good = client.post("/events", json=[GOOD | {"event_id": "h-after"}])
                assert good.status_code == 202
                rss_end = api.rss_kib()
        finally:
            api.stop()
    growth_mib = (rss_end - rss_start) / 1024
    peak_mib = (rss_peak - rss_start) / 1024
    record(
        Figures(
            scenario="hostile_bodies",
            scale=f"{len(outcomes)} hostile requests, one API process",
            sent=len(outcomes),
            accepted=0,
            landed=0,
            lost=0,
            duplicated=0,
            recovery_seconds=None,
            details={
                "outcomes": outcomes,
                "rss_start_mib": round(rss_start / 1024, 1),
                "rss_peak_growth_mib": round(peak_mib, 1),
                "rss_end_growth_mib": round(growth_mib, 1),
                "body_timeout_seconds": BODY_TIMEOUT,
                "header_timeout_seconds": HEADER_TIMEOUT,
            },
        )
    )
    assert peak_mib < 64, f"RSS grew by {peak_mib:.0f} MiB"
