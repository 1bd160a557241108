"""Request dependencies shared by REST, web pages and GraphQL: session, Redis, caller."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from redis.asyncio import Redis
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from privacy.roles import Caller, Role
from rnu.config import Settings
from rnu.db import session_scope


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.rnu
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """One session per request: committed on success, rolled back on error."""
    async with session_scope(state.sessionmaker) as session:
        yield session


log = logging.getLogger("rnu.api")
_REPLICA_FAILURES = (OSError, asyncio.TimeoutError, DBAPIError, InterfaceError, OperationalError)


async def get_read_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A session for read-only queries: on the replica when it answers, else on the primary.

    The replica is tried when configured and not recently failed; if it cannot give a
    connection the request falls back to the primary at once (and the replica is skipped for a
    pause), so a replica outage costs speed, never an error. Replica data may lag the primary
    by a moment; use SessionDep for anything that writes or must see its own writes.
    """
    maker = state.read_sessionmaker
    if maker is not None and state.replica_health.should_try():
        session = maker()
        try:
            await session.connection()
        except _REPLICA_FAILURES as exc:
            await session.close()
            if not state.replica_health.is_down:
                log.warning(
                    "read replica unavailable (%s); reading from the primary", type(exc).__name__
                )
            state.replica_health.record_failure()
        else:
            state.replica_health.record_success()
            try:
                yield session
            finally:
                await session.rollback()
                await session.close()
            return
    async with session_scope(state.sessionmaker) as session:
        yield session


async def get_redis(state: StateDep) -> Redis:
    return state.redis


async def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


async def get_caller(request: Request) -> Caller:
    """The caller as authentication middleware set it; anyone else is the public.

    Auth layers (staff sessions, agency keys, citizen verification) put a `Caller` on
    `request.state.caller`; routes never read credentials themselves.
    """
    caller = getattr(request.state, "caller", None)
    return caller if isinstance(caller, Caller) else Caller(role=Role.PUBLIC)


# scope="function": the commit runs before the response is sent. With FastAPI's default
# ("request") it ran after, so a client could be told 201 for a write that then failed to
# commit, or follow a tracking code before its report was visible (loadtests saw a 404).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def get_secret(state: StateDep) -> bytes:
    """The server secret, unwrapped only where an HMAC needs it."""
    return state.settings.secret_key.get_secret_value().encode("utf-8")


SecretDep = Annotated[bytes, Depends(get_secret)]
RedisDep = Annotated[Redis, Depends(get_redis)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CallerDep = Annotated[Caller, Depends(get_caller)]

# Row ids are bigints: a larger number in a path is invalid input (422), never sent to PostgreSQL
# (asyncpg cannot encode it, which would surface as a 500).
BIGINT_MAX = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
