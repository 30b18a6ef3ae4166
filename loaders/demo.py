"""A small, seeded demo dataset: a few hundred users over the last 30 days."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

EVENT_TYPES = ["page_view", "page_view", "page_view", "click", "click", "signup", "purchase"]


def demo_events(count: int = 2000, days: int = 30, seed: int = 7) -> list[dict[str, Any]]:
    """`count` realistic-looking events ending now; the same seed gives the same events."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    users = [f"demo-user-{i:03d}" for i in range(300)]
    events = []
    for i in range(count):
        user = users[min(int(rng.paretovariate(1.2)) - 1, len(users) - 1)]
        when = now - timedelta(seconds=rng.randrange(days * 86400))
        events.append(
            {
                "event_id": f"demo-{seed}-{i:06d}",
                "user_id": user,
                "event_type": rng.choice(EVENT_TYPES),
                "occurred_at": when.isoformat().replace("+00:00", "Z"),
                "properties": {"path": rng.choice(["/", "/pricing", "/docs", "/blog"])},
            }
        )
    return events
