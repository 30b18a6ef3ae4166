"""SDK message -> native event, on bodies captured from the real SDKs (docs/sdks.md table).

Expected times are computed here from the documented formulas with plain datetime arithmetic.
"""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi import HTTPException

from api.capture.body import decode_capture_body
from api.capture.clock import posthog_sent_at
from api.capture.posthog_mapping import map_posthog
from api.capture.segment_mapping import map_segment, segment_batch
from core.events import EventError, validate_event

RECEIVED = datetime(2026, 12, 1, 20, 18, 18, tzinfo=UTC)
LIMIT = 5 * 1024 * 1024

# Verbatim from segment-python 2.4.0 (second message trimmed of nothing).
SEGMENT_PYTHON = {
    "batch": [
        {
            "integrations": {},
            "anonymousId": None,
            "properties": {"order_id": "o-1", "revenue": 19.99, "currency": "USD"},
            "timestamp": "2026-12-01T20:18:16.913+00:00",
            "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
            "userId": "user-42",
            "type": "track",
            "event": "Order Completed",
            "messageId": "887e801e-fe29-44d8-af9a-7f58c1d93c62",
        },
        {
            "integrations": {},
            "anonymousId": "anon-abc",
            "properties": {"source": "ad"},
            "timestamp": "2024-01-02T03:04:05.678+00:00",
            "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
            "userId": None,
            "type": "track",
            "event": "Signed Up",
            "messageId": "my-fixed-message-id-1",
        },
    ],
    "sentAt": "2026-12-01T20:18:17.416545+00:00",
    "writeKey": "SEG_WRITE_KEY_123",
}
RUDDER_PYTHON_IDENTIFY = {
    "batch": [
        {
            "integrations": {"All": True},
            "anonymousId": None,
            "timestamp": "2026-12-01T20:18:33.990972+00:00",
            "context": {
                "traits": {"email": "ada@example.com", "plan": "pro"},
                "library": {"name": "analytics-python", "version": "2.1.9"},
            },
            "type": "identify",
            "userId": "user-42",
            "messageId": "2cdccd71-aa76-4542-a429-63ca0620b9df",
            "channel": "server",
        }
    ],
    "sentAt": "2026-12-01T20:18:34.490868+00:00",
}
RUDDER_NODE_TRACK = {
    "batch": [
        {
            "anonymousId": "anon-abc",
            "event": "Signed Up",
            "properties": {"source": "ad"},
            "timestamp": "2024-01-02T03:04:05.678Z",
            "messageId": "my-fixed-message-id-1",
            "type": "track",
            "context": {"library": {"name": "analytics-node", "version": "3.0.13"}},
            "channel": "server",
            "_metadata": {"nodeVersion": "20.20.2"},
            "originalTimestamp": "2026-12-01T20:19:40.979Z",
            "sentAt": "2026-12-01T20:19:41.180Z",
        }
    ],
    "timestamp": "2026-12-01T20:19:41.180Z",
    "sentAt": "2026-12-01T20:19:41.180Z",
}
POSTHOG_JS_IDENTIFY = {
    "uuid": "01a23347-39a1-7000-8000-000000000001",
    "event": "$identify",
    "$set": {"email": "ada@example.com", "plan": "pro"},
    "$set_once": {"first_seen": "2024-01-01"},
    "properties": {
        "distinct_id": "user-42",
        "$anon_distinct_id": "01a23347-393b-7ef1-bca1-68aa812e3d0f",
        "token": "phc_PROJECT_KEY_123",
    },
    "timestamp": "2026-12-01T20:23:55.553Z",
}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def stored(event: dict[str, Any], now: datetime = RECEIVED) -> Any:
    return validate_event(event, now, 24 * 3600)


def test_segment_python_track_corrects_skew_and_keeps_context() -> None:
    first, second = (
        map_segment(m, None, segment_batch(SEGMENT_PYTHON, RECEIVED))
        for m in SEGMENT_PYTHON["batch"]
    )
    sent = ts("2026-12-01T20:18:17.416545+00:00")
    one = stored(first)
    assert (one.event_id, one.user_id, one.event_type) == (
        "887e801e-fe29-44d8-af9a-7f58c1d93c62",
        "user-42",
        "Order Completed",
    )
    assert one.occurred_at == RECEIVED - (sent - ts("2026-12-01T20:18:16.913+00:00"))
    assert orjson.loads(one.properties_json) == {
        "order_id": "o-1",
        "revenue": 19.99,
        "currency": "USD",
        "$context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
    }
    two = stored(second)
    # userId null: the anonymousId is the user; the caller's own messageId is kept as sent
    assert (two.event_id, two.user_id) == ("my-fixed-message-id-1", "anon-abc")
    assert two.occurred_at == RECEIVED - (sent - ts("2024-01-02T03:04:05.678+00:00"))
    assert "$anonymous_id" not in orjson.loads(two.properties_json)


def test_rudder_python_identify_traits_from_context() -> None:
    event = stored(
        map_segment(
            RUDDER_PYTHON_IDENTIFY["batch"][0],
            None,
            segment_batch(RUDDER_PYTHON_IDENTIFY, RECEIVED),
        )
    )
    assert (event.user_id, event.event_type) == ("user-42", "$identify")
    assert orjson.loads(event.properties_json)["$set"] == {
        "email": "ada@example.com",
        "plan": "pro",
    }


def test_rudder_node_message_level_sent_at_wins() -> None:
    message = RUDDER_NODE_TRACK["batch"][0]
    event = stored(map_segment(message, None, segment_batch(RUDDER_NODE_TRACK, RECEIVED)))
    expected = RECEIVED - (ts("2026-12-01T20:19:41.180Z") - ts("2024-01-02T03:04:05.678Z"))
    assert event.occurred_at == expected
    without_timestamp = {k: v for k, v in message.items() if k != "timestamp"}
    event = stored(map_segment(without_timestamp, None, segment_batch(RUDDER_NODE_TRACK, RECEIVED)))
    assert event.occurred_at == RECEIVED - timedelta(milliseconds=201)  # originalTimestamp


@pytest.mark.parametrize(
    ("kind", "extra", "event_type", "properties"),
    [
        (
            "page",
            {"name": "Pricing", "category": "Docs"},
            "$pageview",
            {"name": "Pricing", "category": "Docs"},
        ),
        ("screen", {"name": "Home"}, "$screen", {"name": "Home"}),
        (
            "group",
            {"groupId": "org-7", "traits": {"plan": "pro"}},
            "$groupidentify",
            {"$group_key": "org-7", "$group_set": {"plan": "pro"}},
        ),
        ("alias", {"previousId": "anon-abc"}, "$create_alias", {"alias": "anon-abc"}),
        (
            "identify",
            {"traits": {"plan": "pro"}, "anonymousId": "anon-1"},
            "$identify",
            {"$set": {"plan": "pro"}, "$anonymous_id": "anon-1"},
        ),
    ],
)
def test_segment_types(
    kind: str, extra: dict[str, Any], event_type: str, properties: dict[str, Any]
) -> None:
    message = {"type": kind, "userId": "user-42", "messageId": f"m-{kind}", **extra}
    event = stored(map_segment(message, None, segment_batch({}, RECEIVED)))
    assert (event.event_type, event.user_id, event.occurred_at) == (event_type, "user-42", RECEIVED)
    assert orjson.loads(event.properties_json) == properties


def test_single_route_type_and_blank_user_id() -> None:
    message = {"event": "Clicked", "userId": "  ", "anonymousId": "anon-9", "messageId": "m1"}
    event = stored(map_segment(message, "track", segment_batch({}, RECEIVED)))
    assert (event.event_type, event.user_id) == ("Clicked", "anon-9")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "bogus", "messageId": "m"}, "event: type must be one of"),
        (["not", "an", "object"], "event: must be a JSON object"),
    ],
)
def test_unmappable_messages_name_the_rule(message: Any, error: str) -> None:
    with pytest.raises(EventError, match=error):
        map_segment(message, None, segment_batch({}, RECEIVED))


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "track", "event": "x", "messageId": "m"}, "user_id: required"),
        ({"type": "track", "userId": "u", "messageId": "m"}, "event_type: required"),
        (
            {
                "type": "track",
                "event": "x",
                "userId": "u",
                "messageId": "m",
                "timestamp": "yesterday",
            },
            "occurred_at: must be an RFC 3339",
        ),
        (
            {"type": "track", "event": "x", "userId": "u", "messageId": "m", "properties": [1]},
            "properties: must be a JSON object",
        ),
    ],
)
def test_mapped_messages_meet_the_native_rules(message: dict[str, Any], error: str) -> None:
    with pytest.raises(EventError, match=error):
        stored(map_segment(message, None, segment_batch({}, RECEIVED)))


def test_missing_message_id_is_derived_and_stable() -> None:
    message = {"type": "track", "event": "x", "userId": "u", "timestamp": "2026-12-01T20:00:00Z"}
    first = stored(map_segment(message, None, segment_batch({}, RECEIVED))).event_id
    assert (
        first
        == stored(
            map_segment(dict(message), None, segment_batch({}, RECEIVED + timedelta(seconds=5)))
        ).event_id
    )
    assert first.startswith("segment-derived-")


def test_posthog_js_identify_and_token_not_stored() -> None:
    sent = ts("2026-12-01T20:23:58.662Z")
    now = datetime(2026, 12, 1, 20, 24, 0, tzinfo=UTC)
    event = stored(map_posthog(POSTHOG_JS_IDENTIFY, sent, now), now)
    assert (event.event_id, event.user_id, event.event_type) == (
        "01a23347-39a1-7000-8000-000000000001",
        "user-42",
        "$identify",
    )
    assert event.occurred_at == now + (ts("2026-12-01T20:23:55.553Z") - sent)
    properties = orjson.loads(event.properties_json)
    assert properties["$set"] == {"email": "ada@example.com", "plan": "pro"}
    assert properties["$set_once"] == {"first_seen": "2024-01-01"}
    assert "token" not in properties


def test_posthog_times() -> None:
    now = RECEIVED
    base = {"event": "x", "uuid": "u", "distinct_id": "d"}
    offset = stored(map_posthog({**base, "offset": 3059}, None, now))
    assert offset.occurred_at == now - timedelta(milliseconds=3059)
    plain = stored(map_posthog({**base, "timestamp": "2026-12-01T10:00:00Z"}, None, now))
    assert plain.occurred_at == ts("2026-12-01T10:00:00Z")
    sent = ts("2026-12-01T11:00:00Z")
    ignored = {**base, "timestamp": "2026-12-01T10:00:00Z", "properties": {"$ignore_sent_at": True}}
    assert stored(map_posthog(ignored, sent, now)).occurred_at == ts("2026-12-01T10:00:00Z")
    assert stored(map_posthog(base, sent, now)).occurred_at == now
    # a device clock 30 h fast is corrected; without sent_at the future-skew rule refuses it
    fast = {**base, "timestamp": "2026-12-03T02:18:18Z"}
    assert stored(
        map_posthog(fast, ts("2026-12-03T02:18:19Z"), now)
    ).occurred_at == now - timedelta(seconds=1)
    with pytest.raises(EventError, match="occurred_at: more than 24h in the future"):
        stored(map_posthog(fast, None, now))


def test_posthog_sent_at_from_query() -> None:
    assert posthog_sent_at("1796156859410", "2020-01-01T00:00:00Z") == datetime.fromtimestamp(
        1796156859.41, UTC
    )
    assert posthog_sent_at("1796156859", None) == datetime.fromtimestamp(1796156859, UTC)
    assert posthog_sent_at(None, "2026-12-01T20:23:58.662Z") == ts("2026-12-01T20:23:58.662Z")


def test_distinct_id_from_properties() -> None:
    event = {"event": "x", "uuid": "u", "properties": {"distinct_id": 42}}
    assert stored(map_posthog(event, None, RECEIVED)).user_id == "42"


JSON = orjson.dumps({"batch": [{"event": "x"}]})


@pytest.mark.parametrize(
    ("raw", "compression"),
    [
        (JSON, ""),
        (gzip.compress(JSON), ""),  # gzip magic without Content-Encoding (posthog-js, rudder-node)
        (gzip.compress(JSON), "gzip-js"),
        (base64.b64encode(JSON), "base64"),
        (b"data=" + base64.b64encode(JSON).replace(b"+", b"%2B").replace(b"=", b"%3D"), "base64"),
        (b"data=" + base64.b64encode(gzip.compress(JSON)), ""),
    ],
)
def test_capture_bodies_decode(raw: bytes, compression: str) -> None:
    assert decode_capture_body(raw, compression, LIMIT) == JSON


def test_capture_body_limits() -> None:
    with pytest.raises(HTTPException) as too_large:
        decode_capture_body(gzip.compress(b"[" + b" " * 2000 + b"]"), "", 1000)
    assert too_large.value.status_code == 413
    with pytest.raises(HTTPException) as unknown:
        decode_capture_body(JSON, "lz64", LIMIT)
    assert unknown.value.status_code == 415


def test_capture_body_deadline_holds() -> None:
    import asyncio

    from api.capture.answers import error_response
    from api.capture.body import read_capture_json
    from core.settings import Settings
    from tests.unit.test_body_deadline import dripping_request

    with pytest.raises(HTTPException) as slow:
        asyncio.run(read_capture_json(dripping_request(10_000, 0.05), Settings(body_timeout=0.3)))
    assert slow.value.status_code == 408
    answer = orjson.loads(error_response(slow.value).body)
    assert answer["code"] == "body_timeout"
    assert set(answer) == {"code", "message", "detail"}
