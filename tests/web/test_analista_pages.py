"""Analyst pages: login form, redirect, CSRF on forms, dismiss with reason, volunteers kept out."""

from __future__ import annotations

import re
from datetime import date

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.enrollment.models import RollRow
from rnu.review.models import MatchReviewItem
from tests.factories import (
    STAFF_PASSWORD,
    create_batch,
    create_flag,
    create_household,
    create_person,
    create_staff_user,
)
from tests.rnu.staff.support import staff_client

__all__ = ["staff_client"]

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def form_login(
    client: httpx.AsyncClient, area: str, username: str, password: str
) -> httpx.Response:
    form = await client.get(f"/{area}/ingresar")
    token = TOKEN.search(form.text)
    assert token is not None
    return await client.post(
        f"/{area}/ingresar",
        data={"usuario": username, "contrasena": password, "csrf_token": token.group(1)},
    )


def page_csrf(html: str) -> str:
    match = TOKEN.search(html)
    assert match is not None
    return match.group(1)


class TestLoginPage:
    async def test_anonymous_is_sent_to_login(self, staff_client: httpx.AsyncClient) -> None:
        response = await staff_client.get("/analista?tipo=deceased")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/analista/ingresar?siguiente=")

    async def test_login_form_needs_its_double_submit_token(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        response = await staff_client.post(
            "/analista/ingresar",
            data={"usuario": user.username, "contrasena": STAFF_PASSWORD, "csrf_token": "x"},
        )
        assert response.status_code == 400
        assert "rnu_sesion" not in staff_client.cookies

    async def test_login_and_queue(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        person = await create_person(session, nombres="EUSEBIA", doc_number="45678901")
        await create_flag(session, person_id=person.id)
        response = await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        assert response.status_code == 303
        queue = await staff_client.get("/analista")
        assert queue.status_code == 200
        assert '<html lang="es">' in queue.text
        assert "EUSEBIA" in queue.text
        assert queue.headers["cache-control"].startswith("no-store")

    async def test_wrong_password_shows_spanish_error(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        response = await form_login(staff_client, "analista", user.username, "otra-clave-mala")
        assert response.status_code == 401
        assert "Usuario, contraseña o código incorrectos" in response.text


class TestFlagPage:
    async def test_dismiss_with_reason_and_csrf(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        flag = await create_flag(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get(f"/analista/alertas/{flag.id}?finalidad=revisar_alerta")
        csrf = page_csrf(page.text)
        url = f"/analista/alertas/{flag.id}/descartar"
        forged = await staff_client.post(url, data={"motivo": "Homónimo verificado en RENIEC."})
        assert forged.status_code == 403
        assert "No tiene permiso" in forged.text
        empty = await staff_client.post(
            url, data={"motivo": "", "csrf_token": csrf, "finalidad": "revisar_alerta"}
        )
        assert empty.status_code == 400
        done = await staff_client.post(
            url, data={"motivo": "Homónimo verificado en RENIEC.", "csrf_token": csrf}
        )
        assert done.status_code == 303
        await session.refresh(flag)
        assert flag.status == "dismissed"
        assert flag.dismissed_reason == "Homónimo verificado en RENIEC."

    async def test_volunteer_gets_a_spanish_403(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        volunteer = await create_staff_user(session, role="volunteer")
        # A volunteer account cannot even log in through the analysts' form...
        response = await form_login(staff_client, "analista", volunteer.username, STAFF_PASSWORD)
        assert response.status_code == 401
        # ...and a volunteer session cannot open analyst pages.
        await form_login(staff_client, "voluntarios", volunteer.username, STAFF_PASSWORD)
        page = await staff_client.get("/analista")
        assert page.status_code == 403
        assert "No tiene permiso" in page.text


class TestReviewAndDashboardPages:
    async def test_review_item_shows_the_candidate_through_the_policy(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        household = await create_household(session)
        candidate = await create_person(
            session, household=household, nombres="JUAN", apellido_paterno="QUISPE"
        )
        batch = await create_batch(session, source="JUNTOS", period="2026-10")
        assert batch.id is not None
        row = RollRow(
            batch_id=batch.id,
            row_number="17",
            outcome="review",
            nombres="JUAN",
            apellido_paterno="QISPE",
            full_name="QISPE, JUAN",
            birth_on=date(1980, 5, 17),
            ubigeo="150101",
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        item = MatchReviewItem(
            roll_row_id=row.id,
            batch_id=batch.id,
            candidates=[
                {"person_key": candidate.pgh_key, "weight": 9.5, "agreements": {"nombres": "exact"}}
            ],
        )
        session.add(item)
        await session.flush()
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get(
            f"/analista/revision/{item.id}?finalidad=revisar_coincidencia"
        )
        assert page.status_code == 200, page.text
        assert f"Es {candidate.pgh_key}" in page.text
        assert f"DNI {candidate.doc_number}" in page.text
        # The row's birth date and the candidate's (read through PersonOut.birth_date).
        assert page.text.count("17 de mayo de 1980") == 2
        queue = await staff_client.get("/analista/revision")
        assert queue.status_code == 200
        assert f'href="/analista/revision/{item.id}"' in queue.text

    async def test_dashboard_page(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get("/analista/tablero")
        assert page.status_code == 200
        assert "Tablero" in page.text
