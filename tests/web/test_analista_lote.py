"""Bulk actions on the queue page: tick flags, one form, CSRF, supervisors and admins only."""

from __future__ import annotations

import re

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.staff.totp import current_code
from tests.factories import STAFF_PASSWORD, create_flag, create_staff_user
from tests.rnu.staff.support import enrol_totp, staff_client
from tests.web.test_analista_pages import TOKEN, form_login

__all__ = ["staff_client"]


async def supervisor_login(
    session: AsyncSession, client: httpx.AsyncClient, username: str = "sofia.ramos"
) -> str:
    """Log a supervisor in through the page (password and TOTP code); the queue's CSRF."""
    user = await create_staff_user(session, role="supervisor", username=username)
    secret = await enrol_totp(session, user.username)
    form = await client.get("/analista/ingresar")
    token = TOKEN.search(form.text)
    assert token is not None
    done = await client.post(
        "/analista/ingresar",
        data={
            "usuario": user.username,
            "contrasena": STAFF_PASSWORD,
            "codigo": current_code(secret),
            "csrf_token": token.group(1),
        },
    )
    assert done.status_code == 303, done.text
    queue = await client.get("/analista")
    match = TOKEN.search(queue.text)
    assert match is not None
    return match.group(1)


async def _status(session: AsyncSession, flag: object) -> str:
    await session.refresh(flag)
    return str(flag.status)  # type: ignore[attr-defined]


class TestBulkOnTickedFlags:
    async def test_page_offers_checkboxes_and_one_form(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        flag = await create_flag(session)
        await supervisor_login(session, staff_client)
        page = await staff_client.get("/analista")
        assert f'name="alerta" value="{flag.id}"' in page.text
        assert page.text.count('action="/analista/lote"') == 1
        assert "Solo las marcadas en esta página" in page.text

    async def test_dismiss_only_the_ticked_one_with_reason(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        ticked = await create_flag(session)
        other = await create_flag(session)
        csrf = await supervisor_login(session, staff_client)
        response = await staff_client.post(
            "/analista/lote",
            data={
                "csrf_token": csrf,
                "f_estado": "open",
                "alcance": "marcadas",
                "alerta": [str(ticked.id)],
                "accion": "dismiss",
                "motivo": "Homónimo verificado en RENIEC.",
            },
        )
        assert response.status_code == 303
        assert await _status(session, ticked) == "dismissed"
        assert await _status(session, other) == "open"
        assert ticked.dismissed_reason == "Homónimo verificado en RENIEC."
        after = await staff_client.get(response.headers["location"])
        assert "Acción aplicada a 1 alerta." in after.text

    async def test_assign_the_ticked_ones(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        first, second, untouched = [await create_flag(session) for _ in range(3)]
        analyst = await create_staff_user(session, username="pedro.condori")
        csrf = await supervisor_login(session, staff_client)
        page = await staff_client.get("/analista")
        assert 'value="pedro.condori">pedro.condori (analista)' in page.text
        response = await staff_client.post(
            "/analista/lote",
            data={
                "csrf_token": csrf,
                "alerta": [str(first.id), str(second.id)],
                "accion": "assign",
                "asignado_a": analyst.username,
            },
        )
        assert response.status_code == 303
        for flag in (first, second, untouched):
            await session.refresh(flag)
        assert [first.assigned_to, second.assigned_to] == ["pedro.condori"] * 2
        assert untouched.assigned_to is None

    async def test_confirm_every_filtered_flag(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        lima = [await create_flag(session, ubigeo="150101") for _ in range(2)]
        piura = await create_flag(session, ubigeo="200101")
        csrf = await supervisor_login(session, staff_client)
        response = await staff_client.post(
            "/analista/lote",
            data={
                "csrf_token": csrf,
                "f_estado": "open",
                "f_departamento": "15",
                "alcance": "filtradas",
                "accion": "confirm",
            },
        )
        assert response.status_code == 303
        assert [await _status(session, f) for f in lima] == ["confirmed", "confirmed"]
        assert await _status(session, piura) == "open"

    async def test_nothing_ticked_or_no_reason_changes_nothing(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        flag = await create_flag(session)
        csrf = await supervisor_login(session, staff_client)
        none = await staff_client.post(
            "/analista/lote", data={"csrf_token": csrf, "accion": "confirm"}
        )
        assert (
            "Marque al menos una alerta" in (await staff_client.get(none.headers["location"])).text
        )
        no_reason = await staff_client.post(
            "/analista/lote",
            data={"csrf_token": csrf, "alerta": [str(flag.id)], "accion": "dismiss", "motivo": " "},
        )
        after = await staff_client.get(no_reason.headers["location"])
        assert "escriba el motivo" in after.text
        assert await _status(session, flag) == "open"

    async def test_ids_that_are_not_plain_numbers_are_dropped_not_a_500(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        flag = await create_flag(session)
        csrf = await supervisor_login(session, staff_client)
        odd = ["\u00b2", "99999999999999999999", "-3", "0", str(flag.id)]  # ², past int64
        done = await staff_client.post(
            "/analista/lote",
            data={"csrf_token": csrf, "alerta": odd, "accion": "confirm", "f_estado": ""},
        )
        assert done.status_code == 303
        assert "estado=&" in done.headers["location"]  # "Todos" comes back as it was
        assert await _status(session, flag) == "confirmed"


class TestBulkRefused:
    async def test_an_analyst_sees_no_bulk_form_and_is_refused(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        flag = await create_flag(session)
        user = await create_staff_user(session, username="ana.lopez")
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get("/analista")
        assert 'action="/analista/lote"' not in page.text
        assert 'name="alerta"' not in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        response = await staff_client.post(
            "/analista/lote",
            data={"csrf_token": csrf.group(1), "alerta": [str(flag.id)], "accion": "confirm"},
        )
        assert response.status_code == 403
        assert "No tiene permiso" in response.text
        assert await _status(session, flag) == "open"

    async def test_a_supervisor_without_the_csrf_token_is_refused(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        flag = await create_flag(session)
        await supervisor_login(session, staff_client)
        response = await staff_client.post(
            "/analista/lote", data={"alerta": [str(flag.id)], "accion": "confirm"}
        )
        assert response.status_code == 403
        assert await _status(session, flag) == "open"
