"""`python -m tests.peers FACTORY PORT WORKERS`: serve a reference app as `eventmart serve`
serves ours (FACTORY: `tests.peers.ceiling:create_ceiling_app`, …)."""

from __future__ import annotations

import sys

import uvicorn

from api.server import UVICORN_OPTIONS

if __name__ == "__main__":
    factory, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    uvicorn.run(
        factory, factory=True, host="127.0.0.1", port=port, workers=workers, **UVICORN_OPTIONS
    )
