"""Capture bodies as the SDKs send them: gzip whatever the Content-Type, base64, form data.

posthog-js sends gzip labelled text/plain without Content-Encoding, rudder-node sends gzip
labelled x-www-form-urlencoded, posthog-js beacons send `data=<base64>` form bodies: the
content type is never trusted, the bytes are looked at instead.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import HTTPException, Request, status

from api.body import duplicate_key, gunzip_limited, read_limited_body
from core.settings import Settings

GZIP_MAGIC = b"\x1f\x8b"
FORM_DATA_PREFIX = b"data="
SUPPORTED_COMPRESSION = {"", "gzip", "gzip-js", "base64"}


def _bad(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail)


def _base64(text: bytes) -> bytes:
    cleaned = text.strip().replace(b"-", b"+").replace(b"_", b"/")
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _bad("body: not valid base64 (compression=base64)") from None


def _form_data(raw: bytes) -> bytes:
    """The `data` field of an x-www-form-urlencoded body (posthog-js beacons and fallbacks)."""
    fields = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    return fields.get("data", "").encode("latin-1")


def decode_capture_body(raw: bytes, compression: str, limit: int) -> bytes:
    """The JSON text inside a capture body (already gunzipped if Content-Encoding said so)."""
    compression = compression.strip().lower()
    if compression not in SUPPORTED_COMPRESSION:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"compression {compression!r} is not supported; use gzip-js, base64 or none",
        )
    data = raw
    if data.startswith(FORM_DATA_PREFIX):
        data = _form_data(data)
        if not data.lstrip().startswith((b"{", b"[")):
            data = _base64(data)
    elif compression == "base64":
        data = _base64(data)
    if data.startswith(GZIP_MAGIC):
        data = gunzip_limited(data, limit)
    return data


def parse_json(data: bytes) -> Any:
    """The decoded JSON value, or a 400 naming what is wrong (same checks as POST /events)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"body: not valid UTF-8 JSON ({exc})") from None
    duplicate = duplicate_key(data)
    if duplicate is not None:
        raise _bad(f"body: duplicate key {duplicate[:64]!r} in one JSON object")
    return value


async def read_capture_json(request: Request, settings: Settings) -> tuple[Any, bool]:
    """The request's JSON value, within the size limit and body deadline; and whether its
    text may hold an escaped NUL (for the validator's fast path)."""
    raw = await read_limited_body(request, settings.max_body_bytes, settings.body_timeout)
    compression = request.query_params.get("compression", "")
    data = decode_capture_body(raw, compression, settings.max_body_bytes)
    if not data.strip():
        raise _bad("body: empty")
    return parse_json(data), b"\\u0000" in data
