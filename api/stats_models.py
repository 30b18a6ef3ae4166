"""Response models of the read API (docs/api.md#read-api): they describe /stats/* in /docs."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class StatsMeta(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    date_from: dt.date = Field(alias="from", description="first date of the range (inclusive)")
    to: dt.date = Field(description="last date of the range (inclusive)")
    tz: str = Field(
        description="the IANA zone whose local calendar days the dates are (`tz` parameter)"
    )
    refreshed_at: dt.datetime | None = Field(
        description="end of the last successful mart refresh; null before the first"
    )
    loaded_through: dt.datetime | None = Field(
        description="the newest raw.events loaded_at the marts include"
    )
    lag_seconds: float | None = Field(description="now - loaded_through, in seconds")


class TopEventsMeta(StatsMeta):
    limit: int


class RetentionMeta(StatsMeta):
    period: str = Field(description="`day` or `week`")
    periods: int = Field(description="offsets 0..periods are reported")


class DauRow(BaseModel):
    date: dt.date
    active_users: int = Field(description="distinct users with an event that local date")
    events: int = Field(description="events that local date")


class TopEventRow(BaseModel):
    event_type: str
    events: int = Field(description="events of this type in the range")
    users: int = Field(description="distinct users with this type in the range")


class RetentionRow(BaseModel):
    cohort: dt.date = Field(
        description="first local day (or the Monday of the first local week) of the users"
    )
    size: int = Field(description="users whose first-ever event falls in the cohort")
    retained: list[int | None] = Field(
        description="users active in period cohort+k, k = 0..periods; null if not yet observable"
    )
    rate: list[float | None] = Field(
        description="retained[k] / size rounded half away from zero to 4 places"
    )


class DauResponse(BaseModel):
    meta: StatsMeta
    data: list[DauRow]


class TopEventsResponse(BaseModel):
    meta: TopEventsMeta
    data: list[TopEventRow]


class RetentionResponse(BaseModel):
    meta: RetentionMeta
    data: list[RetentionRow]
