"""Event times with each sender's own clock-skew correction (docs/sdks.md, "Time").

A device's clock may be off; the SDKs send both the event's time and the time of sending by
the same clock, so the server can move the event by the difference to its own clock:
- Segment/RudderStack: `received_at - (sentAt - timestamp)` (message-level `sentAt` and
  `originalTimestamp` where the SDK sends them);
- PostHog: `now + (timestamp - sent_at)`, or `now - offset` (ms); `$ignore_sent_at` keeps
  the timestamp as sent.
The result then meets the usual future-skew rule in `core.events`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.events import EventError, parse_timestamp


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 string as an aware datetime, else None (absent or unreadable)."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except EventError:
        return None


def segment_occurred_at(
    message: dict[str, Any], batch_sent: datetime | None, received_at: datetime
) -> Any:
    """`occurred_at` for a Segment/RudderStack message: a corrected datetime, or the sent
    value the validator will refuse. `batch_sent` is the wrapper's `sentAt`, parsed once."""
    client_value = message.get("timestamp")
    if client_value is None:
        client_value = message.get("originalTimestamp")
    if client_value is None:
        return received_at
    client = parse_time(client_value)
    if client is None:
        return client_value  # the validator names the rule it breaks
    own_sent = message.get("sentAt")
    sent = parse_time(own_sent) if own_sent is not None else batch_sent
    if sent is None:
        return client
    return received_at - (sent - client)


def posthog_sent_at(query_ms: str | None, body_sent_at: Any) -> datetime | None:
    """The send time: the `_` query parameter (ms, or s with ≤ 11 digits), else `sent_at`."""
    if query_ms and query_ms.isdigit():
        value = int(query_ms)
        seconds = value if len(query_ms) <= 11 else value / 1000
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return parse_time(body_sent_at)


def posthog_occurred_at(event: dict[str, Any], sent_at: datetime | None, now: datetime) -> Any:
    """`occurred_at` for a PostHog event (PostHog's own parseEventTimestamp rules)."""
    properties = event.get("properties")
    ignore_sent_at = isinstance(properties, dict) and properties.get("$ignore_sent_at") is True
    value = event.get("timestamp")
    if value is not None:
        timestamp = parse_time(value)
        if timestamp is None:
            return value
        if sent_at is not None and not ignore_sent_at:
            return now + (timestamp - sent_at)
        return timestamp
    offset = event.get("offset")
    if isinstance(offset, int | float) and not isinstance(offset, bool):
        return now - timedelta(milliseconds=offset)
    return now
