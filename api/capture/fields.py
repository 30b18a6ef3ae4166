"""Small rules shared by both SDK mappings: ids as sent, or derived from the message."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from core.events import check_object


def present(value: Any) -> str | None:
    """An id as text: a non-blank string as sent, a number as its decimal; else None."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def message_id(source: str, message: dict[str, Any], value: Any) -> Any:
    """The SDK's id exactly as sent; a stable one derived from the content when absent.

    Any other non-string value is passed on for the validator to refuse (`event_id: ...`).
    """
    if value is not None:
        return value
    digest = hashlib.sha256(orjson.dumps(message, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{source}-derived-{digest[:40]}"


def as_message(value: Any) -> dict[str, Any]:
    """A message must be a JSON object (`event: must be a JSON object, not …`)."""
    return check_object(value)


def properties_of(value: Any) -> Any:
    """A copy of the message's properties object ({} when absent); anything else as it is,
    for the validator to refuse."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return value
