"""The event-type filters of /stats/* (docs/api.md#read-api): `event_type=` (repeatable) on
/stats/dau and /stats/active-users, `start_event=` and `return_event=` on /stats/retention.

An event type is matched exactly as sent (1 to 256 characters, like `event_type` at ingest).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, StringConstraints

MAX_EVENT_TYPES = 20


def no_nul(value: str) -> str:
    """Stored event types never hold U+0000 (PostgreSQL text cannot): say so, not a 500."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


EventTypeName = Annotated[
    str, StringConstraints(min_length=1, max_length=256), AfterValidator(no_nul)
]

EventTypesParam = Annotated[
    list[EventTypeName] | None,
    Query(
        max_length=MAX_EVENT_TYPES,
        description="count only the users who did one of these event types (repeatable, "
        f"at most {MAX_EVENT_TYPES}); absent: every event",
        examples=[["purchase"]],
    ),
]

StartEventParam = Annotated[
    EventTypeName | None,
    Query(
        description="cohort users by the first day (week) they did this event type; "
        "absent: their first event of any type",
        examples=["signup"],
    ),
]

ReturnEventParam = Annotated[
    EventTypeName | None,
    Query(
        description="a cohort user is retained in a later period when they did this event "
        "type in it; absent: any event",
        examples=["purchase"],
    ),
]


def distinct_types(values: list[str] | None) -> tuple[str, ...]:
    """The event types asked for, each once, in code point order (one answer per set)."""
    return tuple(sorted(set(values or ())))
