"""One Settings object, read once from the environment and passed down."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Settings(BaseSettings):
    """Configuration from `DATABASE_URL`, `REDIS_URL` and `EVENTMART_*` variables."""

    model_config = SettingsConfigDict(env_prefix="EVENTMART_", extra="ignore")

    # The plain names are read from the environment; AliasChoices also lets code pass
    # `Settings(database_url=…)` on every pydantic-settings 2.x (no populate_by_name needed).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "redis_url")
    )

    env: str = "development"
    home: Path = Path(".eventmart")  # embedded servers, logs and state for `eventmart dev`

    # Ingest limits (docs/api.md#ingest)
    max_events_per_request: int = 1000
    max_body_bytes: int = 5 * 1024 * 1024
    max_future_skew: Annotated[float, NoDecode] = 24 * 3600  # seconds, or `24h`, `90m`
    wait_timeout: Annotated[float, NoDecode] = 10.0  # seconds, or `10s`
    body_timeout: Annotated[float, NoDecode] = 30.0  # the whole request body must arrive in this
    header_timeout: Annotated[float, NoDecode] = 10.0  # and each request line + headers in this
    max_queue_depth: int = 10_000

    # Queue
    queue_name: str = "eventmart-ingest"
    # A batch job runs well under a second; a worker killed mid-job leaves it "started" until
    # job_timeout + 60 s (RQ's grace) have passed, then the next maintenance pass retries it.
    job_timeout_seconds: int = 60
    worker_maintenance_interval: int = 30  # seconds between RQ registry clean-ups
    job_result_ttl_seconds: int = 3600
    job_failure_ttl_seconds: int = 7 * 24 * 3600
    batch_payload_ttl_seconds: int = 30 * 24 * 3600  # a queued batch's rows, until landed
    job_retry_intervals: Annotated[list[int], NoDecode] = [1, 5, 15, 60, 300]

    # Refresh
    refresh_interval_seconds: int = 60  # at least this often (a no-op when nothing is new)
    # the scheduler looks for newly landed rows this often and refreshes at once (0: only on
    # the interval); a look is two index reads
    refresh_poll_seconds: Annotated[float, NoDecode] = 1.0

    # Reporting (docs/api.md#configuration): the IANA zones the marts hold every answer for
    # (the first is the default `tz=` of /stats), and the event properties /stats/trends may
    # break down by
    timezones: Annotated[list[str], NoDecode] = ["UTC"]
    breakdown_properties: Annotated[list[str], NoDecode] = ["$browser", "utm_source", "path"]

    # Operations
    log_level: str = "INFO"
    log_file: Path | None = None
    write_keys: Annotated[list[str], NoDecode] = []
    read_keys: Annotated[list[str], NoDecode] = []
    rate_limit: str = "1000/minute"
    read_rate_limit: str = "6000/minute"
    # /stats answers are cached per refresh (api/read_cache.py): how long an API process trusts
    # its last look at the refresh status (0: every request), and how many answers it keeps
    read_cache_seconds: Annotated[float, NoDecode] = 1.0
    read_cache_entries: int = 2048
    trusted_proxy_header: str | None = None  # e.g. X-Forwarded-For; off: the peer address
    metrics_port: int | None = None  # worker/scheduler: serve /metrics on this port

    # Dashboard (api/dashboard, docs/dashboard.md): the freshness badge warns once the last
    # refresh is older than this (unset: 2 refresh intervals + 60 s); the page polls this often
    dashboard_stale_seconds: Annotated[float | None, NoDecode] = None
    dashboard_poll_seconds: Annotated[float, NoDecode] = 10.0

    # SDK capture routes (docs/sdks.md): origins browsers may send from (`*`: any; comma list)
    cors_origins: Annotated[list[str], NoDecode] = ["*"]

    @field_validator(
        "write_keys",
        "read_keys",
        "job_retry_intervals",
        "cors_origins",
        "timezones",
        "breakdown_properties",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`a,b,c` in the environment becomes a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "max_future_skew",
        "wait_timeout",
        "body_timeout",
        "header_timeout",
        "read_cache_seconds",
        "refresh_poll_seconds",
        "dashboard_stale_seconds",
        "dashboard_poll_seconds",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        """`24h`, `90m`, `30s` or a plain number of seconds."""
        if isinstance(value, str) and value.strip()[-1:].lower() in DURATION_UNITS:
            text = value.strip()
            return float(text[:-1]) * DURATION_UNITS[text[-1].lower()]
        return value

    @field_validator("timezones")
    @classmethod
    def _known_zones(cls, value: list[str]) -> list[str]:
        """Every name must be an IANA zone this machine knows; at least one; no repeats."""
        if not value:
            raise ValueError("EVENTMART_TIMEZONES must name at least one IANA zone, e.g. UTC")
        for name in value:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"EVENTMART_TIMEZONES: {name!r} is not an IANA time zone name "
                    "(e.g. UTC, Europe/Kyiv, America/Los_Angeles)"
                ) from None
        if len(set(value)) != len(value):
            raise ValueError(f"EVENTMART_TIMEZONES lists a zone twice: {','.join(value)}")
        return value

    @property
    def production(self) -> bool:
        return self.env.lower() == "production"

    @property
    def dashboard_stale_after(self) -> float:
        """Seconds since the last refresh after which the dashboard calls the marts stale."""
        if self.dashboard_stale_seconds is not None:
            return self.dashboard_stale_seconds
        return 2 * self.refresh_interval_seconds + 60.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
