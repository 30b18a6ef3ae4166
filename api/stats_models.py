"""Response models of the read API (docs/api.md#read-api): they describe /stats/* in /docs."""

from __future__ import annotations

import datetime as dt
from typing import Literal

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


class DauMeta(StatsMeta):
    event_type: list[str] = Field(
        default_factory=list,
        description="the event types counted (`event_type=`); present only when filtered",
    )


class ActiveUsersMeta(StatsMeta):
    window: int = Field(description="days per window (`window=`: 1, 7, 28 or 30)")
    event_type: list[str] = Field(description="the event types counted; empty: every event")


class RetentionEventsMeta(RetentionMeta):
    start_event: str | None = Field(
        default=None, description="the cohort event (`start_event=`); present only when given"
    )
    return_event: str | None = Field(
        default=None, description="the return event (`return_event=`); present only when given"
    )


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
    size: int = Field(
        description="users whose first-ever event (with `start_event`: whose first such "
        "event) falls in the cohort"
    )
    retained: list[int | None] = Field(
        description="users active (with `return_event`: who did it) in period cohort+k, "
        "k = 0..periods (retained[0] = size); null if not yet observable"
    )
    rate: list[float | None] = Field(
        description="retained[k] / size rounded half away from zero to 4 places"
    )


class ActiveUsersRow(BaseModel):
    date: dt.date
    active_users: int = Field(description="distinct users active in the `window` days ending date")
    dau: int = Field(description="distinct users active on date")
    mau: int = Field(description="distinct users active in the 30 days ending date")
    stickiness: float | None = Field(
        description="dau / mau rounded half away from zero to 4 places; null when mau = 0"
    )


class ActiveUsersResponse(BaseModel):
    meta: ActiveUsersMeta
    data: list[ActiveUsersRow]


class DauResponse(BaseModel):
    meta: DauMeta
    data: list[DauRow]


class TopEventsResponse(BaseModel):
    meta: TopEventsMeta
    data: list[TopEventRow]


class RetentionResponse(BaseModel):
    meta: RetentionEventsMeta
    data: list[RetentionRow]


# --- /stats/trends (api/trends.py) ---------------------------------------------------------


class TrendsMeta(StatsMeta):
    event_type: str = Field(description="the event type counted")
    breakdown: str = Field(description="the property the events are broken down by")
    values: list[str] = Field(
        description="the top values over the range, in rank order (the `value` rows of each day)"
    )


class TrendRow(BaseModel):
    date: dt.date = Field(description="the local date in zone `tz`")
    bucket: Literal["value", "other", "none"] = Field(
        description="`value`: one of the top values; `other`: every other value together; "
        "`none`: events without the property (missing or JSON null)"
    )
    value: str = Field(
        description="the value as text (cut to 200 characters); `$other` / `$none` for those "
        "buckets: a real value spelled so has bucket `value`"
    )
    events: int = Field(description="events of the type that day in this bucket")
    users: int = Field(description="distinct users with such an event that day")


class TrendsResponse(BaseModel):
    meta: TrendsMeta
    data: list[TrendRow]
