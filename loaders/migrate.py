"""`eventmart migrate`: apply `loaders/sql/migrations/*.sql` once each, in order."""

from __future__ import annotations

from importlib.resources import files

import psycopg
import structlog
from psycopg import sql

from core.locks import MIGRATION_LOCK_ID
from core.sql_files import query

log = structlog.get_logger(__name__)


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for each migration shipped with the package, oldest first."""
    folder = files("loaders") / "sql" / "migrations"
    found = [(p.name.removesuffix(".sql"), p.read_text("utf-8")) for p in folder.iterdir()]
    return sorted(v for v in found if v[0][0].isdigit())


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the migrations not yet recorded; return the versions applied now."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute(query("loaders", "migration_lock"), {"lock_id": MIGRATION_LOCK_ID})
        conn.execute(query("loaders", "schema_migrations"))
        done = {r[0] for r in conn.execute(query("loaders", "applied_migrations")).fetchall()}
        for version, text in migration_files():
            if version in done:
                continue
            conn.execute(sql.SQL(text))  # shipped with the package, not user input
            conn.execute(query("loaders", "record_migration"), {"migration_id": version})
            applied_now.append(version)
            log.info("migration_applied", version=version)
    return applied_now
