"""One PostHog event -> one native event (the table in docs/sdks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.capture.clock import posthog_occurred_at
from api.capture.fields import as_message, message_id, present, properties_of

PERSON_UPDATES = ("$set", "$set_once")  # top-level in posthog-python and posthog-js
NOT_STORED = ("token",)  # the project key travels in properties; it is not event data


def map_posthog(value: Any, sent_at: datetime | None, now: datetime) -> dict[str, Any]:
    """The native event for one PostHog event; raises `EventError` for a non-object."""
    event = as_message(value)
    properties = properties_of(event.get("properties"))
    user_id = present(event.get("distinct_id"))
    if isinstance(properties, dict):
        if user_id is None:
            user_id = present(properties.get("distinct_id"))
        for name in PERSON_UPDATES:
            if event.get(name) is not None:
                properties.setdefault(name, event[name])
        for name in NOT_STORED:
            properties.pop(name, None)
    return {
        "event_id": message_id("posthog", event, event.get("uuid")),
        "user_id": user_id,
        "event_type": event.get("event"),
        "occurred_at": posthog_occurred_at(event, sent_at, now),
        "properties": properties,
    }
