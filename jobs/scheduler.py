"""`eventmart scheduler`: one APScheduler process refreshing the marts every interval."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from types import FrameType

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler

from core.metrics import observe_refresh, serve_metrics
from core.settings import Settings
from jobs.refresh import refresh_marts

log = structlog.get_logger(__name__)


def refresh_tick(settings: Settings) -> None:
    """One scheduled refresh; a failure is logged and the next tick tries again."""
    started = time.monotonic()
    try:
        refresh_marts(settings)  # logs its own outcome, success or failure
    except Exception:
        observe_refresh("error", time.monotonic() - started)  # e.g. PostgreSQL unreachable
        log.exception("refresh_tick_failed")


def build_scheduler(settings: Settings) -> BlockingScheduler:
    """A scheduler with the refresh job: first run now, then every interval, never overlapping."""
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        refresh_tick,
        "interval",
        args=[settings],
        seconds=settings.refresh_interval_seconds,
        id="refresh_marts",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def run_scheduler(settings: Settings) -> None:
    """Refresh until SIGTERM/SIGINT; a refresh in progress is finished first."""
    scheduler = build_scheduler(settings)
    if settings.metrics_port:
        serve_metrics(settings.metrics_port)
        log.info("metrics_listening", port=settings.metrics_port)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("scheduler_stopping", signal=signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler_started", interval_seconds=settings.refresh_interval_seconds)
    scheduler.start()
