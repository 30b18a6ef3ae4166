"""What every SDK of a family must have stored: one set of assertions for Python and Node.

Both families' test calls are the same everywhere (track/identify/page/screen/group/alias
with these values; posthog: an order, a person update, a $pageview, a group, an alias), so
the rows they must produce are written down once here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from tests.sdk.conftest import (
    Stored,
    T,
    assert_recent,
    assert_time_corrected,
    bad_event_reason,
    by_type,
    rejected,
    stored,
)

SEGMENT_PROPERTIES = {
    "Order Completed": {"order_id": "o-1"},
    "$identify": {"$set": {"plan": "pro"}, "$anonymous_id": "anon-1"},
    # segment-node copies category into properties itself; the mapping keeps both either way
    "$pageview": {"path": "/pricing", "name": "Pricing", "category": "Docs"},
    "$screen": {"name": "Home"},
    "$groupidentify": {"$group_key": "org-7", "$group_set": {"name": "Acme"}},
    "$create_alias": {"alias": "anon-1"},
}
SEGMENT_IDS = {
    "Order Completed": "track",
    "$identify": "identify",
    "$pageview": "page",
    "$screen": "screen",
    "$groupidentify": "group",
    "$create_alias": "alias",
}
POSTHOG_GROUP = {"$group_type": "company", "$group_key": "org-7", "$group_set": {"name": "Acme"}}


def segment_rows(conn: psycopg.Connection, prefix: str, library: str, sent_after: datetime) -> None:
    """The six messages `<prefix>-<type>`, each once, mapped; `<prefix>-bad` in the rejects."""
    rows = by_type(stored(conn))
    assert {t: (r.event_id, r.user_id) for t, r in rows.items()} == {
        event_type: (f"{prefix}-{suffix}", "user-42") for event_type, suffix in SEGMENT_IDS.items()
    }
    without_context = {
        t: {k: v for k, v in r.properties.items() if k != "$context"} for t, r in rows.items()
    }
    assert without_context == SEGMENT_PROPERTIES
    for row in rows.values():
        assert row.properties["$context"]["library"]["name"] == library
    assert_time_corrected(rows["Order Completed"], T, sent_after)
    for event_type in set(rows) - {"Order Completed"}:
        assert_recent(rows[event_type], sent_after)
    assert rejected(conn) == [("segment", f"{prefix}-bad", bad_event_reason())]


def posthog_rows(
    conn: psycopg.Connection,
    users: dict[str, str],
    properties: dict[str, dict[str, Any]],
    library: str,
    sent_after: datetime,
) -> dict[str, Stored]:
    """Each event type once with its user and (a subset of) its properties; the order's time
    corrected; the invalid event in the rejects. Returns the rows by type."""
    rows = by_type(stored(conn))
    assert {t: r.user_id for t, r in rows.items()} == users
    for event_type, subset in properties.items():
        stored_properties = rows[event_type].properties
        assert {k: stored_properties.get(k) for k in subset} == subset
        assert stored_properties["$lib"] == library
    assert_time_corrected(rows["order completed"], T, sent_after)
    for event_type in set(rows) - {"order completed"}:
        assert_recent(rows[event_type], sent_after)
    [(source, _uuid, reason)] = rejected(conn)
    assert (source, reason) == ("posthog", bad_event_reason())
    return rows
