"""Reliability scenarios: every test here is marked `reliability` (run by `make reliability`)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import EmbeddedPostgres, fresh_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server to create scenario databases on: DATABASE_URL's, else embedded."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedPostgres(Path("/tmp") / f"eventmart-rel-pg-{uuid.uuid4().hex[:8]}")
    yield server.url
    server.close()


@pytest.fixture
def database(pg_server_url: str) -> Iterator[str]:
    """A fresh database with the raw schema, dropped after the test."""
    with fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A scratch folder (redis AOF files, logs) outside pytest's tmp tree, readable by all."""
    path = Path("/tmp") / f"eventmart-rel-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)
