"""Response and request models: they describe the API in /docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.events import MAX_EVENT_ID_CHARS, MAX_TEXT_CHARS

EXAMPLE_EVENTS = [
    {
        "event_id": "4f7c1a2e-0001",
        "user_id": "user-42",
        "event_type": "page_view",
        "occurred_at": "2026-11-24T09:15:00Z",
        "properties": {"path": "/pricing", "referrer": "newsletter"},
    },
    {
        "event_id": "4f7c1a2e-0002",
        "user_id": "user-42",
        "event_type": "signup",
        "occurred_at": "2026-11-24T10:15:00+01:00",
    },
]


class EventIn(BaseModel):
    """One event as producers send it (docs/api.md#ingest). Documentation only: the API validates
    each event itself so that one bad event never rejects its neighbours."""

    event_id: str = Field(min_length=1, max_length=MAX_EVENT_ID_CHARS)
    user_id: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    event_type: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    occurred_at: str = Field(
        description="YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]; no offset means UTC",
        examples=["2026-11-24T09:15:00Z"],
    )
    properties: dict[str, Any] | None = Field(
        default=None, description="JSON object, ≤ 32 KiB compact, nesting ≤ 32"
    )


class Rejection(BaseModel):
    index: int = Field(description="position of the event in the request array")
    event_id: str | None = Field(description="the event's event_id when it was a string")
    error: str = Field(examples=["occurred_at: more than 24h in the future"])


class IngestResult(BaseModel):
    accepted: int = Field(description="distinct valid events queued")
    duplicates_in_request: int = Field(description="later copies of an event_id in this request")
    rejected: list[Rejection]
    landed: bool | None = Field(default=None, description="only with ?wait=true")
    inserted: int | None = Field(default=None, description="only with ?wait=true and landed")
    duplicates: int | None = Field(
        default=None, description="only with ?wait=true and landed: already stored before"
    )


class Detail(BaseModel):
    detail: str
