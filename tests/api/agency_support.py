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


async def run_jobs(state: AppState, *, until: Any = None, rounds: int = 20) -> None:
    """Run the job worker on what is due, again until ``until()`` holds (retries are delayed)."""
    import asyncio

    from rnu import jobs

    for _ in range(rounds):
        await jobs.run_worker(
            state.endpoints.database_url,
            wait=False,
            concurrency=1,
            secret=state.settings.secret_key.get_secret_value().encode(),
            retry_base_s=0.05,
            allow_plain_http=True,
        )
        if until is None or await until():
            return
        await asyncio.sleep(0.15)
