"""The HTTP edge's wiring of a use-case ``Context``: one per request, from the app's state.

REST routes and web pages alike take ``ContextDep`` (or ``ReadContextDep`` for read-only work
that may run on the replica) and hand it to a use case.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import CallerDep, ReadSessionDep, SessionDep, StateDep
from api.ratelimit import ClientAddressDep, LimiterDep, RateLimiter
from api.state import AppState
from privacy.roles import Caller
from rnu.cache import cache_for
from usecases.context import Context


def context_of(
    session: AsyncSession, state: AppState, caller: Caller, limiter: RateLimiter, address: str
) -> Context:
    return Context(
        session=session,
        cache=cache_for(state.redis),
        settings=state.settings,
        data_version=state.data_version,
        caller=caller,
        limiter=limiter,
        client=address,
    )


async def get_context(
    session: SessionDep,
    state: StateDep,
    caller: CallerDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> Context:
    return context_of(session, state, caller, limiter, address)


async def get_read_context(
    session: ReadSessionDep,
    state: StateDep,
    caller: CallerDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> Context:
    return context_of(session, state, caller, limiter, address)


ContextDep = Annotated[Context, Depends(get_context)]
ReadContextDep = Annotated[Context, Depends(get_read_context)]
