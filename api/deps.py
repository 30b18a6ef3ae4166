"""FastAPI dependencies: settings and the shared clients held on the application state."""

from __future__ import annotations

from fastapi import Request
from rq import Queue

from core.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_queue(request: Request) -> Queue:
    queue: Queue = request.app.state.queue
    return queue
