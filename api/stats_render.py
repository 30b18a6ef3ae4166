"""How a /stats answer becomes bytes: JSON `{"meta", "data"}` or RFC 4180 CSV.

The data part is serialized once per answer (`Prepared`); `meta` is rendered per request,
since `lag_seconds` is "now - loaded_through".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson
from fastapi import Response

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class HasFreshness(Protocol):
    @property
    def refreshed_at(self) -> datetime | None: ...

    @property
    def loaded_through(self) -> datetime | None: ...


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def meta(
    freshness: HasFreshness, start: date, end: date, tz: str = "UTC", **extra: Any
) -> dict[str, Any]:
    loaded = freshness.loaded_through
    lag = None if loaded is None else round((datetime.now(UTC) - loaded).total_seconds(), 3)
    return {
        "from": start,
        "to": end,
        "tz": tz,
        "refreshed_at": freshness.refreshed_at,
        "loaded_through": loaded,
        "lag_seconds": lag,
        **extra,
    }


@dataclass(frozen=True, slots=True)
class Prepared:
    """An answer's data, serialized: JSON array bytes, or CSV text (header row included)."""

    data_json: bytes | None = None
    csv_text: str | None = None

    def render(self, meta_: dict[str, Any]) -> Response:
        if self.csv_text is not None:
            refreshed, lag = meta_["refreshed_at"], meta_["lag_seconds"]
            headers = {
                "X-Eventmart-Refreshed-At": "" if refreshed is None else iso_utc(refreshed),
                "X-Eventmart-Lag-Seconds": "" if lag is None else str(lag),
                "X-Eventmart-Tz": meta_.get("tz") or "",
            }
            return Response(self.csv_text, media_type=CSV_MEDIA_TYPE, headers=headers)
        # The same bytes as orjson.dumps({"meta": meta_, "data": data}).
        head = orjson.dumps(meta_, option=orjson.OPT_UTC_Z)
        body = b"".join((b'{"meta":', head, b',"data":', self.data_json or b"[]", b"}"))
        return Response(body, media_type="application/json")


def prepare_json(data: list[dict[str, Any]]) -> Prepared:
    return Prepared(data_json=orjson.dumps(data, option=orjson.OPT_UTC_Z))


def prepare_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Prepared:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return Prepared(csv_text=buffer.getvalue())


def prepare_table(columns: Sequence[str], rows: list[tuple[Any, ...]], csv_out: bool) -> Prepared:
    """Rows as CSV under a header of `columns`, or as JSON objects keyed by them."""
    if csv_out:
        return prepare_csv(columns, rows)
    return prepare_json([dict(zip(columns, row, strict=True)) for row in rows])


def json_response(meta_: dict[str, Any], data: list[dict[str, Any]]) -> Response:
    return prepare_json(data).render(meta_)


def table_response(
    meta_: dict[str, Any], columns: Sequence[str], rows: list[tuple[Any, ...]], csv_out: bool
) -> Response:
    return prepare_table(columns, rows, csv_out).render(meta_)
