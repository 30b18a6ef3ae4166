"""What posthog-js and the PostHog server SDKs ask for besides capture, so nothing 404s.

eventmart has no feature flags, surveys or session recording: the flags answer is empty, and
the remote config advertises gzip-js (else posthog-js falls back to uncompressed JSON and a
CORS preflight per request) and sends analytics to /i/v0/e/.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response

from api.capture.answers import json_response

router = APIRouter(tags=["capture"], include_in_schema=False)

SUPPORTED_COMPRESSION = ["gzip-js"]
FLAGS = {
    "flags": {},
    "featureFlags": {},
    "featureFlagPayloads": {},
    "errorsWhileComputingFlags": False,
    "quotaLimited": [],
    "supportedCompression": SUPPORTED_COMPRESSION,
    "config": {"enable_collect_everything": False},
    "sessionRecording": False,
    "surveys": False,
    "heatmaps": False,
    "siteApps": [],
}


def remote_config(token: str) -> dict[str, object]:
    return {
        "token": token,
        "supportedCompression": SUPPORTED_COMPRESSION,
        "hasFeatureFlags": False,
        "analytics": {"endpoint": "/i/v0/e/"},
        "autocaptureExceptions": False,
        "sessionRecording": False,
        "heatmaps": False,
        "surveys": False,
        "siteApps": [],
    }


async def flags() -> Response:
    return json_response(FLAGS)


async def config(token: str) -> Response:
    return json_response(remote_config(token))


async def config_js(token: str) -> Response:
    """The script form: posthog-js reads window._POSTHOG_REMOTE_CONFIG[token].config."""
    entry = orjson.dumps({"config": remote_config(token), "siteApps": []}).decode()
    script = (
        "(function(){var c=window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
        f"c[{orjson.dumps(token).decode()}]={entry};}})();"
    )
    return Response(script, media_type="application/javascript")


for _path in ("/flags", "/flags/", "/decide", "/decide/"):
    router.add_api_route(_path, flags, methods=["GET", "POST"], name=f"posthog{_path}")
router.add_api_route("/array/{token}/config", config, methods=["GET"], name="posthog_config")
router.add_api_route(
    "/array/{token}/config.js", config_js, methods=["GET"], name="posthog_config_js"
)
