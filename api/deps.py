"""Request dependencies shared by REST, web pages and GraphQL: session, Redis, caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from privacy.roles import Caller, Role
from rnu.config import Settings
from rnu.db import session_scope


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.rnu
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """One session per request: committed on success, rolled back on error."""
    async with session_scope(state.sessionmaker) as session:
        yield session


def get_redis(state: StateDep) -> Redis:
    return state.redis


def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


async def get_caller(request: Request) -> Caller:
    """The caller as authentication middleware set it; anyone else is the public.

    Auth layers (staff sessions, agency keys, citizen verification) put a `Caller` on
    `request.state.caller`; routes never read credentials themselves.
    """
    caller = getattr(request.state, "caller", None)
    return caller if isinstance(caller, Caller) else Caller(role=Role.PUBLIC)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
RedisDep = Annotated[Redis, Depends(get_redis)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CallerDep = Annotated[Caller, Depends(get_caller)]
