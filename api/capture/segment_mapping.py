"""One Segment/RudderStack message -> one native event (the table in docs/sdks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from api.capture.clock import parse_time, segment_occurred_at
from api.capture.fields import as_message, message_id, present, properties_of
from core.events import EventError

EVENT_TYPES = {
    "page": "$pageview",
    "screen": "$screen",
    "identify": "$identify",
    "group": "$groupidentify",
    "alias": "$create_alias",
}
MESSAGE_TYPES = ("track", *EVENT_TYPES)


def _traits(message: dict[str, Any], context: dict[str, Any]) -> Any:
    """Top-level traits, else context.traits (rudder-python sends them only there)."""
    traits = message.get("traits")
    return traits if traits is not None else context.get("traits")


def _context(message: dict[str, Any], batch_context: Any) -> dict[str, Any]:
    """The message's context over the batch-level one (Segment's HTTP API allows both)."""
    context = message.get("context")
    if context is not None and not isinstance(context, dict):
        raise EventError("properties", "not an object", "context must be a JSON object")
    if not isinstance(batch_context, dict) or not batch_context:
        return context or {}
    return {**batch_context, **(context or {})}


class SegmentBatch(NamedTuple):
    """What a batch's messages share, read once: its context, its `sentAt`, its receipt."""

    context: Any
    sent_at: datetime | None
    received_at: datetime


def segment_batch(wrapper: dict[str, Any], received_at: datetime) -> SegmentBatch:
    return SegmentBatch(wrapper.get("context"), parse_time(wrapper.get("sentAt")), received_at)


def map_segment(value: Any, route_type: str | None, batch: SegmentBatch) -> dict[str, Any]:
    """The native event for one message; `route_type` is set by /v1/track etc., where the
    body is the message itself. Raises `EventError` when the message cannot be mapped."""
    message = as_message(value)
    kind = route_type or message.get("type")
    if not isinstance(kind, str) or kind.lower() not in MESSAGE_TYPES:
        raise EventError(
            "event",
            "unknown type",
            f"type must be one of {', '.join(MESSAGE_TYPES)} (got {kind!r})",
        )
    kind = kind.lower()
    context = _context(message, batch.context)
    properties = properties_of(message.get("properties"))
    user_id, anonymous_id = present(message.get("userId")), present(message.get("anonymousId"))
    if isinstance(properties, dict):
        if kind == "identify":
            traits = _traits(message, context)
            if traits is not None:
                properties["$set"] = traits
        elif kind == "group":
            properties["$group_key"] = message.get("groupId")
            traits = _traits(message, {})
            if traits is not None:
                properties["$group_set"] = traits
        elif kind == "alias":
            properties["alias"] = message.get("previousId")
        elif kind in ("page", "screen"):
            for name in ("name", "category"):
                if message.get(name) is not None:
                    properties.setdefault(name, message[name])
        if user_id is not None and anonymous_id is not None:
            properties["$anonymous_id"] = anonymous_id
        if context:
            properties["$context"] = context
    return {
        "event_id": message_id("segment", message, message.get("messageId")),
        "user_id": user_id if user_id is not None else anonymous_id,
        "event_type": message.get("event") if kind == "track" else EVENT_TYPES[kind],
        "occurred_at": segment_occurred_at(message, batch.sent_at, batch.received_at),
        "properties": properties,
    }
