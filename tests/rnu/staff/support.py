"""Shared helpers for the staff tests: an app bound to the test's transaction, and logins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.config import Settings
from tests.factories import STAFF_PASSWORD

SECRET = "test-secret-for-staff"
SETTINGS: dict[str, Any] = {"environment": "test", "secret_key": SECRET}


def bind(app_state: AppState, session: AsyncSession, **settings: Any) -> AppState:
    """The app's state with sessions on the test's connection (savepoints, rolled back)."""
    maker = async_sessionmaker(
        bind=session.bind,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    return replace(app_state, sessionmaker=maker, settings=Settings(**(SETTINGS | settings)))


async def make_client(state: AppState) -> httpx.AsyncClient:
    from web.app import create_app

    app = create_app(state=state)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def staff_client(
    app_state: AppState, session: AsyncSession, tmp_path: Any
) -> AsyncIterator[httpx.AsyncClient]:
    state = bind(app_state, session, data_dir=tmp_path)
    async with await make_client(state) as client:
        yield client


async def enrol_totp(session: AsyncSession, username: str, secret: str = SECRET) -> str:
    """Enrol a staff account for TOTP under the test app's server secret; the base32 secret."""
    from rnu.staff import totp

    enrolment = await totp.enrol(session, username=username, server_secret=secret.encode())
    return enrolment.secret


async def login(
    client: httpx.AsyncClient,
    username: str,
    password: str = STAFF_PASSWORD,
    *,
    totp_secret: str | None = None,
) -> str:
    """Log in through the JSON API; return the CSRF token (the cookie stays in the client).

    ``totp_secret``: send the current code of that secret (supervisors, admins)."""
    from rnu.staff.totp import current_code

    body = {"usuario": username, "contrasena": password}
    if totp_secret is not None:
        body["codigo"] = current_code(totp_secret)
    response = await client.post("/api/v1/analista/sesion", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])
