"""A forged CSRF token of any characters is refused, never a 500 (issue 11.17).

``secrets.compare_digest`` raises TypeError on non-ASCII ``str``: a token like ``ñ`` in the
header, the form field or the login cookie used to end in "Internal Server Error".
"""

from __future__ import annotations

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.factories import STAFF_PASSWORD, create_staff_user
from tests.rnu.staff.support import login, staff_client

__all__ = ["staff_client"]

FORGED = ["ñ", "contraseña", "\u00e9t\u00e9", "🙂"]


@pytest.mark.parametrize("forged", FORGED)
async def test_non_ascii_csrf_header_is_a_403(
    session: AsyncSession, staff_client: httpx.AsyncClient, forged: str
) -> None:
    user = await create_staff_user(session)
    await login(staff_client, user.username)
    response = await staff_client.delete(
        "/api/v1/analista/sesion", headers={b"X-CSRF-Token": forged.encode()}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"


@pytest.mark.parametrize("forged", FORGED)
async def test_non_ascii_token_on_the_unauthenticated_login_form_is_a_400(
    session: AsyncSession, staff_client: httpx.AsyncClient, forged: str
) -> None:
    user = await create_staff_user(session)
    form = await staff_client.get("/analista/ingresar")
    assert form.status_code == 200
    response = await staff_client.post(
        "/analista/ingresar",
        data={"usuario": user.username, "contrasena": STAFF_PASSWORD, "csrf_token": forged},
    )
    assert response.status_code == 400
    assert "venció" in response.text


async def test_non_ascii_login_cookie_is_a_400(
    session: AsyncSession, staff_client: httpx.AsyncClient
) -> None:
    user = await create_staff_user(session)
    response = await staff_client.post(
        "/analista/ingresar",
        data={"usuario": user.username, "contrasena": STAFF_PASSWORD, "csrf_token": "año"},
        headers={b"cookie": "rnu_csrf_ingreso=año".encode()},
    )
    assert response.status_code == 400
    assert "venció" in response.text


def test_tokens_match_compares_any_text() -> None:
    from rnu.staff.service import tokens_match

    assert tokens_match("año", "año")
    assert not tokens_match("año", "ano")
    assert not tokens_match("abc", None)
    assert not tokens_match(None, "abc")
    assert not tokens_match("", "")
