"""Fixtures for the public-side tests: an app that sees the test's own transaction.

The default ``client`` talks to the app through its own connections, so rows a test adds in its
rolled-back ``session`` are invisible to it. ``public_client`` binds the app's sessions to the
test's connection (savepoints), so factories' rows are visible and still rolled back.
Import the fixtures into a test module: ``from tests.api.public_support import *``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.config import Settings
from rnu.person.models import Household, Person
from tests.factories import create_batch, create_enrollment, create_household, create_person

__all__ = ["bound_state", "public_client", "make_client", "seed_person", "TEST_SETTINGS"]

TEST_SETTINGS: dict[str, Any] = {"environment": "test", "secret_key": "test-secret-for-public"}


def bind(app_state: AppState, session: AsyncSession, **settings: Any) -> AppState:
    maker = async_sessionmaker(
        bind=session.bind,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    return replace(app_state, sessionmaker=maker, settings=Settings(**(TEST_SETTINGS | settings)))


@pytest.fixture
def bound_state(app_state: AppState, session: AsyncSession) -> AppState:
    return bind(app_state, session)


async def make_client(state: AppState) -> httpx.AsyncClient:
    from web.app import create_app

    app = create_app(state=state)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def public_client(bound_state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    async with await make_client(bound_state) as client:
        yield client


async def seed_person(
    session: AsyncSession,
    *,
    programs: tuple[str, ...] = ("PENSION65",),
    period: str = "2026-10",
    household: Household | None = None,
    **person: Any,
) -> Person:
    """A person in a household, enrolled in ``programs`` for ``period`` (one batch each)."""
    household = household or await create_household(session, cse="PE")
    person.setdefault("birth_on", date(1950, 3, 9))
    created = await create_person(session, household=household, **person)
    for program in programs:
        batch = await create_batch(session, source=program, period=period)
        await create_enrollment(session, person=created, batch=batch, household_id=household.id)
    return created
