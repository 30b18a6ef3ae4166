"""What the capture routes answer, in forms every SDK handles correctly (docs/sdks.md).

Success is exactly 200 (a 202 makes three of the SDKs send the batch again). Errors carry
`code`, `message` and `detail`: without `code`/`message` rudder-python retries even a 400.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import HTTPException, Response, status

ERROR_CODES = {
    status.HTTP_400_BAD_REQUEST: "bad_request",
    status.HTTP_401_UNAUTHORIZED: "missing_write_key",
    status.HTTP_403_FORBIDDEN: "invalid_write_key",
    status.HTTP_408_REQUEST_TIMEOUT: "body_timeout",
    status.HTTP_413_CONTENT_TOO_LARGE: "too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_encoding",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limited",
    status.HTTP_503_SERVICE_UNAVAILABLE: "unavailable",
}


def json_response(content: Any, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(orjson.dumps(content), status_code, media_type="application/json")


def error_response(exc: HTTPException) -> Response:
    """An HTTPException raised by the shared ingest code, as a capture error body."""
    detail = str(exc.detail)
    code = ERROR_CODES.get(exc.status_code, "error")
    if exc.status_code == status.HTTP_503_SERVICE_UNAVAILABLE and "rate limit" in detail:
        code = "rate_limited"
    response = json_response(
        {"code": code, "message": detail.partition(";")[0], "detail": detail}, exc.status_code
    )
    response.headers.update(exc.headers or {})
    return response
