"""Fixtures for agency API tests: an app bound to the test's transaction and keyed clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.agency.webhooks import WebhookPolicy
from tests.api.public_support import bind, make_client
from tests.factories import create_api_client

SECRET = "test-secret-for-public"


@pytest.fixture
def agency_state(app_state: AppState, session: AsyncSession) -> AppState:
    return bind(app_state, session)


@pytest.fixture
async def api(agency_state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    async with await make_client(agency_state) as client:
        yield client


async def agency_headers(
    session: AsyncSession, *scopes: str, purpose: str = "elegibilidad", **overrides: Any
) -> dict[str, str]:
    _, key = await create_api_client(session, scopes=scopes, **overrides)
    return {"Authorization": f"Bearer {key}", "X-Purpose": purpose}


class SqlCounter:
    """Counts SQL statements sent through an engine while active."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.statements: list[str] = []

    def _on(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    def __enter__(self) -> SqlCounter:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)

    @property
    def count(self) -> int:
        return len(self.statements)


async def committed_agency(state: AppState, *scopes: str, purpose: str = "pago") -> dict[str, str]:
    """An agency committed for real (the job worker reads through its own connections)."""
    from rnu.db import session_scope

    async with session_scope(state.sessionmaker) as session:
        _, key = await create_api_client(session, scopes=scopes)
    return {"Authorization": f"Bearer {key}", "X-Purpose": purpose}


async def run_jobs(
    state: AppState,
    *,
    until: Any = None,
    rounds: int = 20,
    webhook_policy: WebhookPolicy | None = None,
) -> None:
    """Run the job worker on what is due, again until ``until()`` holds (retries are delayed).

    Webhooks may go to loopback receivers unless ``webhook_policy`` says otherwise.
    """
    import asyncio

    from cli.worker import run_worker

    for _ in range(rounds):
        await run_worker(
            state.endpoints.database_url,
            wait=False,
            concurrency=1,
            secret=state.settings.secret_key.get_secret_value().encode(),
            retry_base_s=0.05,
            allow_plain_http=True,
            webhook_policy=webhook_policy
            or WebhookPolicy(allow_plain_http=True, allow_private=True),
            redis_url=state.endpoints.redis_url,
        )
        if until is None or await until():
            return
        await asyncio.sleep(0.15)


def live_server(database_url: str, redis_url: str) -> Any:
    """The whole app served by uvicorn on a free loopback port, in a thread (its own loop)."""
    import socket
    import threading
    import time

    import uvicorn

    from rnu.config import Settings
    from web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        database_url=database_url, redis_url=redis_url, environment="test", db_pool_size=2
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def sync_agency_key(database_url: str, *scopes: str) -> str:
    """A committed agency key, made from synchronous code (no event loop running)."""
    import asyncio

    from rnu.db import make_engine, make_sessionmaker, session_scope

    async def make() -> str:
        engine = make_engine(database_url, pool_size=1, role="test")
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                _, key = await create_api_client(session, scopes=scopes)
        finally:
            await engine.dispose()
        return key

    return asyncio.run(make())
