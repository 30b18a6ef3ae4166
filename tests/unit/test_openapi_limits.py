"""The OpenAPI document states the configured request limits, not the defaults."""

from __future__ import annotations

from api.app import create_app
from core.settings import Settings


def test_events_body_limits_follow_the_settings() -> None:
    schema = create_app(Settings(max_events_per_request=50, max_body_bytes=4096)).openapi()
    body = schema["paths"]["/events"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["maxItems"] == 50
    assert "4096 bytes" in body["description"]
    default = create_app(Settings()).openapi()["paths"]["/events"]["post"]["requestBody"]
    assert default["content"]["application/json"]["schema"]["maxItems"] == 1000
