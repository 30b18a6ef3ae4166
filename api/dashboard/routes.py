"""GET / and /dashboard (the page), /dashboard/config.json, and the page's static files.

The page and its files are public; the numbers it draws come from /stats/*, behind the read
key when one is configured (docs/dashboard.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import Scope

from api.deps import SettingsDep

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/dashboard/static"
# Vendored files carry their version in the file name, so a browser may keep them for good;
# the page and its own script are revalidated (ETag) so an upgrade shows at once.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

router = APIRouter(tags=["dashboard"])


class DashboardConfig(BaseModel):
    """What the page needs to know before it reads /stats/*."""

    keys_required: bool = Field(description="/stats/* needs `Authorization: Bearer <read key>`")
    stale_seconds: float = Field(
        description="the badge warns once the last refresh is older than this"
    )
    poll_seconds: float = Field(description="how often the page looks for a newer refresh")
    refresh_interval_seconds: int = Field(description="the scheduler's refresh interval")
    timezones: list[str] = Field(
        description="the reporting zones /stats/* answers for (`tz=`); the first is the default"
    )


class DashboardStaticFiles(StaticFiles):
    """StaticFiles with a Cache-Control header on every answer (200 and 304)."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = "vendor" in Path(full_path).relative_to(STATIC_DIR).parts
        response.headers["Cache-Control"] = IMMUTABLE if vendored else REVALIDATE
        return response


def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": REVALIDATE})


router.add_api_route("/", page, methods=["GET", "HEAD"], include_in_schema=False)
router.add_api_route("/dashboard", page, methods=["GET", "HEAD"], include_in_schema=False)


@router.get("/dashboard/config.json", summary="The dashboard's settings (public)")
async def dashboard_config(settings: SettingsDep) -> DashboardConfig:
    return DashboardConfig(
        keys_required=bool(settings.read_keys),
        stale_seconds=settings.dashboard_stale_after,
        poll_seconds=settings.dashboard_poll_seconds,
        refresh_interval_seconds=settings.refresh_interval_seconds,
        timezones=settings.timezones,
    )


def mount_dashboard(app: FastAPI) -> None:
    """Add the page, its config and its static files to `app` (no key: the page is public)."""
    app.include_router(router)
    app.mount(STATIC_PREFIX, DashboardStaticFiles(directory=STATIC_DIR), name="dashboard-static")
