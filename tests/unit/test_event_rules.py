"""The event rules (docs/api.md#ingest), checked on `validate_event` directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from core.events import EventError, describe_skew, json_depth, validate_event
from tests.bad_events import BAD_EVENTS, GOOD, nested, with_

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
DAY = 86400.0


@pytest.mark.parametrize(("event", "error"), BAD_EVENTS)
def test_bad_event_is_rejected_naming_field_and_rule(event: Any, error: str) -> None:
    now = datetime.now(UTC)
    with pytest.raises(EventError) as raised:
        validate_event(event, now, DAY)
    assert str(raised.value).startswith(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),  # naive means UTC
        ("2024-05-01 12:00:00z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T01:30:00+02:00", datetime(2024, 4, 30, 23, 30, tzinfo=UTC)),
        ("2024-04-30T23:30:00-05:00", datetime(2024, 5, 1, 4, 30, tzinfo=UTC)),
        ("2024-05-01T12:00:00.5Z", datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2024-05-01T23:59:59.999999999Z", datetime(2024, 5, 1, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_timestamps_are_normalised_to_utc_microseconds(text: str, expected: datetime) -> None:
    event = validate_event(with_(occurred_at=text), NOW, DAY)
    assert event.occurred_at == expected
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_future_skew_limit_is_inclusive() -> None:
    at_limit = (NOW + timedelta(days=1)).isoformat()
    assert validate_event(with_(occurred_at=at_limit), NOW, DAY).event_id == "good-1"
    past_limit = (NOW + timedelta(days=1, microseconds=1)).isoformat()
    with pytest.raises(EventError, match="occurred_at: more than 24h in the future"):
        validate_event(with_(occurred_at=past_limit), NOW, DAY)


def test_nul_is_replaced_in_fields_keys_and_nested_values() -> None:
    event = with_(
        user_id="a\x00b",
        properties={"k\x00": ["v\x00", {"deep\x00": "x\x00y"}]},
    )
    valid = validate_event(event, NOW, DAY)
    assert valid.user_id == "a\ufffdb"
    assert orjson.loads(valid.properties_json) == {
        "k\ufffd": ["v\ufffd", {"deep\ufffd": "x\ufffdy"}]
    }


def test_text_is_kept_exactly_including_non_ascii_and_spaces() -> None:
    event = with_(user_id=" Zoë 用户 🎉 ", event_type="Sign Up", properties={"名": "ü"})
    valid = validate_event(event, NOW, DAY)
    assert valid.user_id == " Zoë 用户 🎉 "
    assert valid.event_type == "Sign Up"
    assert orjson.loads(valid.properties_json) == {"名": "ü"}


def test_limits_are_inclusive_and_count_characters() -> None:
    valid = validate_event(
        with_(event_id="é" * 128, user_id="🎉" * 256, properties=nested(32)), NOW, DAY
    )
    assert len(valid.event_id) == 128
    assert len(valid.user_id) == 256


def test_properties_size_counts_compact_utf8_bytes() -> None:
    # {"b":"…"} is 8 bytes of syntax; "é" is 2 bytes in UTF-8.
    fits = {"b": "é" * ((32 * 1024 - 8) // 2)}
    assert len(orjson.dumps(fits)) == 32 * 1024
    assert validate_event(with_(properties=fits), NOW, DAY)
    too_big = {"b": "é" * ((32 * 1024 - 8) // 2) + "x"}
    with pytest.raises(EventError, match="properties: 32769 bytes"):
        validate_event(with_(properties=too_big), NOW, DAY)


@pytest.mark.parametrize("props", [None, {}])
def test_absent_or_null_properties_become_empty_object(props: Any) -> None:
    event = dict(GOOD)
    event["properties"] = props
    assert validate_event(event, NOW, DAY).properties_json == "{}"
    event.pop("properties")
    assert validate_event(event, NOW, DAY).properties_json == "{}"


def test_unknown_top_level_fields_are_ignored() -> None:
    assert validate_event(with_(extra={"x": 1}), NOW, DAY).event_id == "good-1"


def test_json_depth_counts_objects_and_arrays() -> None:
    assert json_depth({}, 32) == 1
    assert json_depth({"a": [1, {"b": []}]}, 32) == 4
    assert json_depth(nested(32), 32) == 32


@pytest.mark.parametrize(("seconds", "text"), [(86400, "24h"), (90, "90s"), (300, "5m")])
def test_skew_is_described_in_human_units(seconds: float, text: str) -> None:
    assert describe_skew(seconds) == text
