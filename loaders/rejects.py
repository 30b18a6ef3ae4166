"""raw.rejects: capture messages that broke an event rule, kept with reason and capped payload.

The SDK capture routes answer 200 to a batch even when some of its messages are invalid (an
SDK cannot act on a per-message error), so each invalid one is written here instead of being
lost. `reject_id` is derived from the source and the payload: a retried batch adds nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, TypedDict

import orjson
import psycopg

from core.sql_files import query

MAX_PAYLOAD_CHARS = 4096  # the copy kept of each message; payload_bytes has the full size


class Reject(TypedDict):
    reject_id: str
    source: str
    message_id: str | None
    reason: str
    payload: str
    payload_bytes: int
    received_at: str  # RFC 3339, UTC


def make_reject(
    source: str, message: Any, message_id: str | None, reason: str, received_at: datetime
) -> Reject:
    """One reject row for `message` as the SDK sent it (a capped copy of its JSON text)."""
    text = orjson.dumps(message, option=orjson.OPT_SORT_KEYS).decode()
    digest = hashlib.sha256(f"{source}\n{text}".encode()).hexdigest()[:40]
    return {
        "reject_id": f"{source}-{digest}",
        "source": source,
        "message_id": message_id,
        "reason": reason,
        "payload": text[:MAX_PAYLOAD_CHARS],
        "payload_bytes": len(text.encode()),
        "received_at": received_at.isoformat(),
    }


def write_rejects(conn: psycopg.Connection, rejects: list[Reject]) -> int:
    """Insert the rejects not stored yet (one transaction); return how many were new."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(query("loaders", "write_reject"), rejects)
        # executemany's rowcount sums every statement's count (psycopg >= 3.1).
        return max(cur.rowcount, 0)


def list_rejects(
    conn: psycopg.Connection, limit: int = 50, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The newest rejects first, as dicts (received_at, source, message_id, reason, …)."""
    cur = conn.execute(query("loaders", "list_rejects"), {"row_limit": limit, "since": since})
    names = [column.name for column in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def since_time(text: str, now: datetime) -> datetime:
    """`--since`: an RFC 3339 time, or a duration back from now (`90m`, `24h`, `7d`)."""
    from core.events import parse_timestamp
    from core.settings import DURATION_UNITS

    unit = text[-1:].lower()
    if unit in DURATION_UNITS and text[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(seconds=float(text[:-1]) * DURATION_UNITS[unit])
    return parse_timestamp(text)


def reject_line(reject: dict[str, Any], payload_chars: int = 200) -> str:
    """One reject as a line of text: time, source, id, reason, the start of the payload."""
    payload = reject["payload"]
    if len(payload) > payload_chars:
        payload = payload[:payload_chars] + "…"
    return (
        f"{reject['received_at'].isoformat()}  {reject['source']}  "
        f"{reject['message_id'] or '-'}  {reject['reason']}  {payload}"
    )
