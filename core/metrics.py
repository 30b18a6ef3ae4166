"""Every Prometheus metric in one place: the API, the worker and the scheduler all use these.

Several processes (uvicorn workers, `eventmart dev`) share one set of numbers through
prometheus-client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` must be set before this
module is first imported (`eventmart serve --workers N` and `eventmart dev` do it).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# --- HTTP API -------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "eventmart_http_requests",
    "HTTP requests by method, route template and status code",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "eventmart_http_request_duration_seconds",
    "HTTP request latency by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS_ACCEPTED = Counter("eventmart_events_accepted", "Events accepted by POST /events (queued)")
EVENTS_REJECTED = Counter(
    "eventmart_events_rejected",
    "Events rejected by POST /events, by the rule they broke (`field: rule`)",
    ["reason"],
)
EVENTS_DUPLICATE_IN_REQUEST = Counter(
    "eventmart_events_duplicate_in_request",
    "Later copies of an event_id within one POST /events request (not queued)",
)
RATE_LIMITED = Counter("eventmart_rate_limited", "Requests answered 429, by limit", ["limit"])

# --- Worker ---------------------------------------------------------------------------------
JOB_DURATION = Histogram(
    "eventmart_job_duration_seconds",
    "RQ job run time by function and outcome",
    ["job", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
ROWS_INSERTED = Counter(
    "eventmart_raw_rows_inserted", "Rows newly written to raw.events", ["source"]
)
ROWS_DUPLICATE = Counter(
    "eventmart_raw_rows_duplicate",
    "Rows skipped because raw.events already held their event_id",
    ["source"],
)

# --- Mart refresh (scheduler and `eventmart refresh`) ---------------------------------------
REFRESH_DURATION = Histogram(
    "eventmart_refresh_duration_seconds",
    "Mart refresh run time by outcome (success, skipped = nothing new, failure, error)",
    ["outcome"],
    buckets=(0.05, 0.25, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
REFRESH_LAST_SUCCESS = Gauge(
    "eventmart_refresh_last_success_timestamp_seconds",
    "Unix time at which the last successful mart refresh ended",
    multiprocess_mode="mostrecent",
)
MARTS_LOADED_THROUGH = Gauge(
    "eventmart_marts_loaded_through_timestamp_seconds",
    "Newest raw.events loaded_at the marts include (Unix time); lag = time() - this",
    multiprocess_mode="mostrecent",
)


def count_ingest(accepted: int, duplicates_in_request: int, reasons: Iterable[str]) -> None:
    """Record what one POST answered; `reasons` are `EventError.reason` labels (`field: rule`)."""
    EVENTS_ACCEPTED.inc(accepted)
    if duplicates_in_request:
        EVENTS_DUPLICATE_IN_REQUEST.inc(duplicates_in_request)
    for reason in reasons:
        EVENTS_REJECTED.labels(reason).inc()


def observe_refresh(outcome: str, seconds: float, loaded_through: float | None = None) -> None:
    """Record one mart refresh; `loaded_through` (Unix time) when the marts report it.

    The live freshness lag (`eventmart_freshness_lag_seconds`) is computed by the API at
    scrape time from marts.refresh_status; here `time() - loaded_through` gives it too.
    """
    REFRESH_DURATION.labels(outcome).observe(seconds)
    if outcome in ("success", "skipped"):  # skipped: the marts were already up to date
        REFRESH_LAST_SUCCESS.set(time.time())
    if loaded_through is not None:
        MARTS_LOADED_THROUGH.set(loaded_through)


# --- Scrape-time collectors and rendering ---------------------------------------------------
class CallbackCollector:
    """Collects metric families from a callback at scrape time (queue depth, live lag)."""

    def __init__(self, callback: Callable[[], Iterable[Metric]]) -> None:
        self._callback = callback

    def collect(self) -> Iterator[Metric]:
        yield from self._callback()


def gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower())


class _Registry:
    """What generate_latest needs: this process's (or all processes') metrics plus extras."""

    def __init__(self, extra: Iterable[Any]) -> None:
        path = multiprocess_dir()
        self._base: Any = MultiProcessCollector(None, path) if path else REGISTRY
        self._extra = list(extra)

    def collect(self) -> Iterator[Metric]:
        yield from self._base.collect()
        for collector in self._extra:
            yield from collector.collect()


def render_metrics(extra: Iterable[Any] = ()) -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type."""
    return generate_latest(_Registry(extra)), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir(default: Path | None = None) -> str:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory and return it.

    Call before any child process starts: every child that inherits the variable shares
    one set of numbers. Uses the variable if set, else `default`, else a fresh temporary
    directory; old `*.db` files (and only those) are removed, as prometheus-client requires.
    """
    path = multiprocess_dir() or (
        str(default) if default else tempfile.mkdtemp(prefix="eventmart-metrics-")
    )
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = path
    return path


def serve_metrics(port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from outside
    """Expose this process's metrics (all of the multiprocess dir, if set) on its own port."""
    start_http_server(port, addr=addr, registry=_Registry(()))
