"""Render a reliability results file as the Markdown tables of docs/reliability.md.

python -m tests.reliability.report [.eventmart/reliability/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.reliability.harness import RESULTS

COLUMNS = ["sent", "accepted", "landed", "lost", "duplicated", "recovery_seconds"]


def number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1f} s"
    return f"{value:,}"


def summary(results: dict[str, Any]) -> str:
    lines = [
        "| scenario | scale | sent | accepted | landed | lost | duplicated | time to recover |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row in sorted(results.items()):
        cells = [number(row[c]) for c in COLUMNS]
        lines.append(f"| `{name}` | {row['scale']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def outcomes(results: dict[str, Any]) -> str:
    hostile = results.get("hostile_bodies")
    if not hostile:
        return ""
    lines = ["| body | status | answer | seconds | API RSS after |", "|---|--:|---|--:|--:|"]
    for o in hostile["details"]["outcomes"]:
        detail = str(o["detail"]).replace("|", "\\|")
        lines.append(
            f"| {o['case']} | {o['status']} | `{detail}` | {o['seconds']} | {o['rss_mib']} MiB |"
        )
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    results = json.loads(path.read_text())
    print(summary(results))
    print()
    print(outcomes(results))


if __name__ == "__main__":
    main()
