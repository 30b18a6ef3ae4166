"""docker-compose.yml and Dockerfile: the services, their commands, replicas and Redis settings."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    return dict(document["services"])


def test_every_role_is_a_service(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker", "scheduler"}


def test_commands(services: dict[str, Any]) -> None:
    assert services["migrate"]["command"] == ["migrate"]
    api = services["api"]["command"]
    assert api[0] == "serve"
    assert api[api.index("--host") + 1] == "0.0.0.0"
    assert services["worker"]["command"] == ["worker"]
    assert services["scheduler"]["command"] == ["scheduler"]
    for role in ("migrate", "api", "worker", "scheduler"):
        assert services[role]["build"] == "."


def test_replicas_and_one_shot_migrate(services: dict[str, Any]) -> None:
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert services["migrate"]["restart"] == "no"
    for role in ("api", "worker", "scheduler"):
        condition = services[role]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_redis_is_durable_and_never_evicts(services: dict[str, Any]) -> None:
    redis = services["redis"]
    command = redis["command"]
    flags = dict(zip(command[1::2], command[2::2], strict=True))
    assert command[0] == "redis-server"
    assert flags == {
        "--appendonly": "yes",
        "--appendfsync": "everysec",
        "--maxmemory-policy": "noeviction",
    }
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_postgres_has_a_volume_and_a_healthcheck(services: dict[str, Any]) -> None:
    postgres = services["postgres"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_configured_by_environment(services: dict[str, Any]) -> None:
    for role in ("migrate", "api", "worker", "scheduler"):
        env = services[role]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert "EVENTMART_WRITE_KEYS" in env
        assert "EVENTMART_READ_KEYS" in env


def test_dockerfile_is_slim_non_root_and_pinned() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") == 1
    assert "FROM python:3.11-slim" in text
    assert "-c constraints.txt" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["eventmart"]' in text


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_config_validates() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
