"""Small pure rules of the operations layer: metric labels, request ids, keys, addresses."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.auth import is_placeholder, matches_any
from api.middleware import request_id_from
from core.events import EventError, validate_event
from tests.bad_events import BAD_EVENTS
from tests.conftest import REPO_ROOT


@pytest.mark.parametrize(("event", "error"), BAD_EVENTS)
def test_every_rejection_has_a_known_low_cardinality_reason(event: Any, error: str) -> None:
    with pytest.raises(EventError) as caught:
        validate_event(event, datetime.now(UTC), 24 * 3600)
    reason = caught.value.reason
    field, _, rule = reason.partition(": ")
    assert field == caught.value.field == error.split(":")[0]
    assert str(caught.value).startswith(f"{field}: ")
    assert rule and rule == caught.value.rule, str(caught.value)
    # the label never carries the offending value
    assert "'" not in reason
    assert not any(ch.isdigit() for ch in rule)


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        (b"abc-123", True),
        (b"trace:1/2+3=4_5.6", True),
        (b"x" * 128, True),
        (b"x" * 129, False),
        (b"", False),
        (b'has "quotes"', False),
        (b"new\nline", False),
    ],
)
def test_request_id_is_kept_only_when_plain(header: bytes, kept: bool) -> None:
    rid = request_id_from([(b"x-request-id", header)])
    assert (rid == header.decode()) is kept
    if not kept:
        assert len(rid) == 32


@pytest.mark.parametrize(
    ("key", "placeholder"),
    [
        ("changeme", True),
        ("CHANGEME-0123456789abcdef", True),
        ("secret", True),
        ("example-key-0123456789", True),
        ("0000000000000000000000", True),
        ("short1", True),
        ("k3y-9f2c41d0a7b6e5f3", False),
    ],
)
def test_placeholder_keys(key: str, placeholder: bool) -> None:
    assert is_placeholder(key) is placeholder


def test_key_matching() -> None:
    assert matches_any("b", ["a", "b"])
    assert not matches_any("c", ["a", "b"])
    assert not matches_any("", ["a"])
    assert matches_any("ключ", ["ключ"])  # non-ASCII keys compare as UTF-8 bytes


def test_log_lines_name_the_process_from_any_thread_and_hide_secrets(tmp_path: Path) -> None:
    """In a fresh interpreter, as a role starts: configure, then log from a pool thread."""
    log_file = tmp_path / "role.log"
    script = f"""
import threading, structlog
from core.logging import configure_logging
from core.settings import Settings
configure_logging(Settings(log_file={str(log_file)!r}), "scheduler")
log = structlog.get_logger("probe")
thread = threading.Thread(target=lambda: log.info("from_thread", token="s3cr3t", rows=3))
thread.start(); thread.join()
"""
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO_ROOT, capture_output=True)
    [line] = [orjson.loads(raw) for raw in log_file.read_text().splitlines()]
    assert line["event"] == "from_thread"
    assert line["process"] == "scheduler"
    assert line["token"] == "[redacted]"
    assert line["rows"] == 3
    assert "s3cr3t" not in log_file.read_text()
