"""One table of bad events, shared by the API tests and the history-loader tests.

Each case is (event, expected error prefix). The error must name the field and the rule.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

GOOD: dict[str, Any] = {
    "event_id": "good-1",
    "user_id": "user-1",
    "event_type": "page_view",
    "occurred_at": "2024-05-01T12:00:00Z",
    "properties": {"path": "/"},
}


def nested(depth: int) -> dict[str, Any]:
    """A properties object whose depth (the object itself counting 1) is `depth`."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def with_(**changes: Any) -> dict[str, Any]:
    event = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            event.pop(key)
        else:
            event[key] = value
    return event


BIG_PROPERTIES = {"blob": "x" * (32 * 1024)}
FAR_FUTURE = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")

BAD_EVENTS = [
    pytest.param(with_(event_id=...), "event_id: required", id="event_id-missing"),
    pytest.param(with_(event_id=None), "event_id: required", id="event_id-null"),
    pytest.param(with_(event_id=""), "event_id: must be 1-128 characters", id="event_id-empty"),
    pytest.param(with_(event_id="e" * 129), "event_id: must be 1-128", id="event_id-too-long"),
    pytest.param(with_(event_id=17), "event_id: must be a string", id="event_id-number"),
    pytest.param(with_(event_id=True), "event_id: must be a string", id="event_id-boolean"),
    pytest.param(with_(user_id=...), "user_id: required", id="user_id-missing"),
    pytest.param(with_(user_id=""), "user_id: must be 1-256 characters", id="user_id-empty"),
    pytest.param(with_(user_id="u" * 257), "user_id: must be 1-256", id="user_id-too-long"),
    pytest.param(with_(user_id=42), "user_id: must be a string", id="user_id-number"),
    pytest.param(with_(event_type=...), "event_type: required", id="event_type-missing"),
    pytest.param(with_(event_type="t" * 257), "event_type: must be 1-256", id="event_type-long"),
    pytest.param(with_(event_type=["a"]), "event_type: must be a string", id="event_type-array"),
    pytest.param(with_(occurred_at=...), "occurred_at: required", id="occurred_at-missing"),
    pytest.param(
        with_(occurred_at="2024-05-01"), "occurred_at: must be an RFC 3339", id="date-only"
    ),
    pytest.param(with_(occurred_at=1714564800), "occurred_at: must be a string", id="epoch"),
    pytest.param(with_(occurred_at="yesterday"), "occurred_at: must be an RFC 3339", id="words"),
    pytest.param(
        with_(occurred_at="٢٠٢٤-05-01T12:00:00Z"),
        "occurred_at: must be an RFC 3339",
        id="non-ascii-digits",
    ),
    pytest.param(
        with_(occurred_at="2024-05-01T12:00Z"), "occurred_at: must be an RFC 3339", id="no-seconds"
    ),
    pytest.param(
        with_(occurred_at="2024-02-30T00:00:00Z"), "occurred_at: '2024-02-30", id="no-such-day"
    ),
    pytest.param(
        with_(occurred_at="2024-05-01T24:00:00Z"), "occurred_at: '2024-05-01T24", id="hour-24"
    ),
    pytest.param(
        with_(occurred_at="2024-05-01T12:00:00+25:00"), "occurred_at: offset +25:00", id="offset"
    ),
    pytest.param(
        with_(occurred_at=FAR_FUTURE), "occurred_at: more than 24h in the future", id="future"
    ),
    pytest.param(with_(properties="{}"), "properties: must be a JSON object", id="props-string"),
    pytest.param(with_(properties=[1, 2]), "properties: must be a JSON object", id="props-array"),
    pytest.param(with_(properties=7), "properties: must be a JSON object", id="props-number"),
    pytest.param(
        with_(properties=nested(33)), "properties: nested deeper than 32", id="props-too-deep"
    ),
    pytest.param(
        with_(properties=BIG_PROPERTIES),
        f"properties: {len(json.dumps(BIG_PROPERTIES, separators=(',', ':')))} bytes is larger"
        " than 32768 bytes",
        id="props-too-big",
    ),
    pytest.param("just a string", "event: must be a JSON object", id="event-string"),
    pytest.param(None, "event: must be a JSON object", id="event-null"),
]
