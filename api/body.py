"""Read a JSON request body within the size limit, decoding gzip as it streams in."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

from fastapi import HTTPException, Request, status

GZIP_WBITS = 16 + zlib.MAX_WBITS


def check_json_content_type(request: Request) -> None:
    """415 unless the body is declared `application/json` (a UTF-8 charset parameter is fine)."""
    header = request.headers.get("content-type", "")
    media_type, _, params = header.partition(";")
    if media_type.strip().lower() != "application/json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be application/json, got {header or 'none'!r}",
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in {
            "utf-8",
            "utf8",
        }:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                f"charset must be utf-8, got {value.strip()!r}",
            )


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {limit} bytes")


async def read_limited_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The (decoded) body, never holding more than `limit` + one chunk in memory.

    Raises 413 past the limit (before or after gzip decoding), 400 for bad gzip,
    415 for an encoding other than gzip or identity, 408 when the whole body has not
    arrived within `timeout` seconds (a slow-drip client cannot hold a connection forever).
    """
    try:
        async with asyncio.timeout(timeout):
            return await _read_body(request, limit)
    except TimeoutError:
        raise HTTPException(
            status.HTTP_408_REQUEST_TIMEOUT,
            f"body: not received within {timeout:g} s",
            headers={"Connection": "close"},
        ) from None


async def _read_body(request: Request, limit: int) -> bytes:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in {"identity", "gzip", "x-gzip"}:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Encoding {encoding!r} is not supported; use gzip or identity",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    inflater = zlib.decompressobj(GZIP_WBITS) if encoding != "identity" else None
    parts: list[bytes] = []
    received = 0
    size = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        if inflater is None:
            parts.append(chunk)
            size += len(chunk)
            continue
        out = _inflate(inflater, chunk, limit, size)
        parts.append(out)
        size += len(out)
    if inflater is not None and not inflater.eof:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body: gzip data is truncated")
    return b"".join(parts)


def _inflate(inflater: Any, chunk: bytes, limit: int, size: int) -> bytes:
    """Inflate at most one byte past the limit (a gzip bomb stops here); 400 on bad data."""
    try:
        out: bytes = inflater.decompress(chunk, limit + 1 - size)
    except zlib.error as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body: bad gzip data ({exc})") from None
    if size + len(out) > limit or inflater.unconsumed_tail:
        raise _too_large(limit)
    return out


def gunzip_limited(data: bytes, limit: int) -> bytes:
    """A whole gzip body already in memory, decoded within `limit` bytes (413 past it)."""
    inflater = zlib.decompressobj(GZIP_WBITS)
    out = _inflate(inflater, data, limit, 0)
    if not inflater.eof:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body: gzip data is truncated")
    return out


class _DuplicateKey(ValueError):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> None:
    """object_pairs_hook: raise on a repeated name; build nothing (only the check matters)."""
    if len(pairs) > 1 and len({name for name, _ in pairs}) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _DuplicateKey(name)
            seen.add(name)


def duplicate_key(body: bytes) -> str | None:
    """A name that occurs twice in one object of `body` (already valid JSON), or None.

    orjson (like PostgreSQL's jsonb) keeps the last copy, other parsers the first, so such a
    body means different events to different readers: it is refused. Costs one more C-speed
    parse of the body (a few ms per 1,000 events).
    """
    try:
        json.loads(body, object_pairs_hook=_reject_duplicates)
    except _DuplicateKey as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None  # orjson accepted it; this parser's own limits are not the client's fault
    return None
