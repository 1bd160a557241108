"""The analyst use cases' ``Analyst``, built from the request's staff session.

The JSON API and the pages take one of these dependencies instead of a session, a secret and
a caller each: the session check (role, CSRF) is ``api.auth.staff.RequireSession``'s, and the
caller and audit name come from the session itself, not from what another dependency left on
the request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth.staff import (
    StaffApiDep,
    StaffPageDep,
    SupervisorApiDep,
    SupervisorPageDep,
    actor_for,
    caller_for,
)
from api.deps import SecretDep, SessionDep
from rnu.staff.service import ActiveSession
from usecases.analyst import Analyst


def analyst_of(active: ActiveSession, session: AsyncSession, secret: bytes) -> Analyst:
    return Analyst(
        session=session,
        secret=secret,
        actor=actor_for(active),
        caller=caller_for(active),
        username=active.user.username,
        role=active.user.role,
    )


async def _staff_api(active: StaffApiDep, session: SessionDep, secret: SecretDep) -> Analyst:
    return analyst_of(active, session, secret)


async def _supervisor_api(
    active: SupervisorApiDep, session: SessionDep, secret: SecretDep
) -> Analyst:
    return analyst_of(active, session, secret)


async def _staff_page(active: StaffPageDep, session: SessionDep, secret: SecretDep) -> Analyst:
    return analyst_of(active, session, secret)


async def _supervisor_page(
    active: SupervisorPageDep, session: SessionDep, secret: SecretDep
) -> Analyst:
    return analyst_of(active, session, secret)


AnalystApiDep = Annotated[Analyst, Depends(_staff_api)]
SupervisorAnalystApiDep = Annotated[Analyst, Depends(_supervisor_api)]
AnalystPageDep = Annotated[Analyst, Depends(_staff_page)]
SupervisorAnalystPageDep = Annotated[Analyst, Depends(_supervisor_page)]
