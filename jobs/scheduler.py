"""`eventmart scheduler`: one APScheduler process that refreshes the marts as soon as new
raw rows have landed (a cheap probe every `EVENTMART_REFRESH_POLL_SECONDS`), and at least
every `EVENTMART_REFRESH_INTERVAL_SECONDS` — never two refreshes at once. After a failed
refresh it waits for the interval before trying again (no retry storm every poll)."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from types import FrameType

import psycopg
import structlog
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.db import connect
from core.metrics import observe_refresh, serve_metrics
from core.settings import Settings
from jobs.refresh import nothing_new, refresh_marts, refresh_threshold, watermarked_models

log = structlog.get_logger(__name__)
JOB_ID = "refresh_marts"


def refresh_tick(settings: Settings) -> bool:
    """One scheduled refresh; a failure is logged (never raised) and the next tick tries again."""
    started = time.monotonic()
    try:
        return refresh_marts(settings).success  # logs its own outcome, success or failure
    except Exception:
        observe_refresh("error", time.monotonic() - started)  # e.g. PostgreSQL unreachable
        log.exception("refresh_tick_failed")
        return False


class RefreshLoop:
    """Decides on each tick whether to refresh: new rows have landed, or the interval is up.

    The probe (the models' watermarks and the newest raw `loaded_at`, both index reads) runs
    on one kept connection without the refresh lock: it only says whether to try;
    `refresh_marts` decides again under the lock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.last_refresh = float("-inf")  # monotonic start of the last refresh
        self.failing = False  # after a failed refresh, retry on the interval only
        self._conn: psycopg.Connection | None = None

    def new_rows_landed(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self.settings, autocommit=True)
            threshold = refresh_threshold(self._conn, watermarked_models(self.settings))
            return not nothing_new(self._conn, threshold)  # never built counts as new
        except psycopg.Error as exc:
            # The interval's refresh reports the outage; the probe stays quiet meanwhile.
            log.debug("refresh_probe_failed", error=str(exc))
            self.close()
            return False

    def due(self) -> bool:
        interval_up = time.monotonic() - self.last_refresh >= self.settings.refresh_interval_seconds
        return interval_up or (not self.failing and self.new_rows_landed())

    def tick(self, scheduler: BaseScheduler | None = None) -> bool:
        """Refresh if due (returns whether it did); polls are paused while it runs."""
        if not self.due():
            return False
        if scheduler is not None:
            scheduler.pause_job(JOB_ID)  # no skipped-instance warning per poll meanwhile
        try:
            self.last_refresh = time.monotonic()
            self.failing = not refresh_tick(self.settings)
        finally:
            if scheduler is not None:
                scheduler.resume_job(JOB_ID)
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def build_scheduler(settings: Settings, loop: RefreshLoop | None = None) -> BlockingScheduler:
    """A scheduler with the refresh job: first run now, then a look every poll interval
    (or, with polling off, a refresh every interval), never overlapping."""
    scheduler = BlockingScheduler(timezone=UTC)
    loop = loop or RefreshLoop(settings)
    poll = settings.refresh_poll_seconds
    scheduler.add_job(
        loop.tick if poll > 0 else refresh_tick,
        "interval",
        args=[scheduler] if poll > 0 else [settings],
        seconds=poll if poll > 0 else settings.refresh_interval_seconds,
        id=JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def run_scheduler(settings: Settings) -> None:
    """Refresh until SIGTERM/SIGINT; a refresh in progress is finished first."""
    loop = RefreshLoop(settings)
    scheduler = build_scheduler(settings, loop)
    if settings.metrics_port:
        serve_metrics(settings.metrics_port)
        log.info("metrics_listening", port=settings.metrics_port)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("scheduler_stopping", signal=signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "scheduler_started",
        interval_seconds=settings.refresh_interval_seconds,
        poll_seconds=settings.refresh_poll_seconds,
    )
    try:
        scheduler.start()
    finally:
        loop.close()
