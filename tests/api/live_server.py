"""A real uvicorn server on loopback for tests that need uvicorn's own behaviour.

In-process ``httpx.ASGITransport`` skips what uvicorn does around the app (its forwarded-header
parser, its "Exception in ASGI application" log); these tests serve the app with the options
``rnu serve`` uses (``api.serving.UVICORN_OPTIONS``) on a free port in the test's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from api.serving import UVICORN_OPTIONS
from api.state import AppState


@asynccontextmanager
async def served(state: AppState, app: FastAPI | None = None) -> AsyncIterator[str]:
    """The whole site (or ``app``) on a real uvicorn server; yields its base URL."""
    if app is None:
        from web.app import create_app

        app = create_app(state=state)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", **UVICORN_OPTIONS)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
