"""PostgreSQL connections and the libpq parameters dbt needs."""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from core.settings import Settings


def database_url(settings: Settings) -> str:
    """The configured database URL; `eventmart dev` sets it for embedded servers."""
    if not settings.database_url:
        raise RuntimeError(
            "DATABASE_URL is not set: export it, or run `eventmart dev` for an embedded database"
        )
    return settings.database_url


def connect(settings: Settings, *, autocommit: bool = False) -> psycopg.Connection:
    """A new connection to the service database."""
    return psycopg.connect(
        database_url(settings), autocommit=autocommit, application_name="eventmart"
    )


def libpq_params(url: str) -> dict[str, str]:
    """host/port/user/password/dbname of a URL, for tools (dbt) that want them apart."""
    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    return {
        "host": params.get("host", "127.0.0.1"),
        "port": params.get("port", "5432"),
        "user": params.get("user", "postgres"),
        "password": params.get("password", ""),
        "dbname": params.get("dbname", "postgres"),
    }


READ_POOL_MAX_SIZE = 16  # FastAPI runs sync endpoints on a 40-thread pool; 16 is plenty


def open_read_pool(settings: Settings) -> ConnectionPool:
    """Autocommit connections for the read API; opened in the background, so the app starts
    even while PostgreSQL is down (reads then answer 503)."""
    pool = ConnectionPool(
        database_url(settings),
        min_size=2,
        max_size=READ_POOL_MAX_SIZE,
        kwargs={"autocommit": True, "application_name": "eventmart-api"},
        timeout=5,
        open=False,
    )
    pool.open(wait=False)
    return pool
