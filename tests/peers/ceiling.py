"""The framework's ceiling: a minimal FastAPI app that answers every GET with fixed bytes
(`EVENTMART_CEILING_BODY` names the file), on the same uvicorn settings as `eventmart serve`."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response


def create_ceiling_app() -> FastAPI:
    body = Path(os.environ["EVENTMART_CEILING_BODY"]).read_bytes()
    app = FastAPI()

    @app.get("/{path:path}")
    async def fixed(path: str) -> Response:
        return Response(body, media_type="application/json")

    return app
