"""The dashboard page: a summary, flags per kind over several periods, filters that keep
their label (issue 13.9: only the latest period, as 10,000 px of tables, and "Todo el país"
while filtered to Piura)."""

from __future__ import annotations

import re

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.factories import (
    STAFF_PASSWORD,
    create_batch,
    create_enrollment,
    create_flag,
    create_person,
    create_staff_user,
)
from tests.rnu.staff.support import staff_client
from tests.web.test_analista_pages import form_login
from tests.web.test_analista_wording import visible_text

__all__ = ["staff_client"]

PERIODS = ("2026-08", "2026-09", "2026-10")
PIURA, SULLANA, LIMA = "200101", "200601", "150101"


async def _three_periods(session: AsyncSession) -> None:
    """Pensión 65 in three months: people in Piura, Sullana and Lima, flags of two kinds.

    Deceased flags grow 1, 2, 3 in Piura (city) over the months; Lima has one CSE flag in
    each month; Sullana (province of Piura) one deceased flag in October.
    """
    people = {
        u: await create_person(session, ubigeo=u, nombres=f"P{u}") for u in (PIURA, SULLANA, LIMA)
    }
    for i, period in enumerate(PERIODS):
        batch = await create_batch(session, source="PENSION65", period=period)
        for person in people.values():
            await create_enrollment(session, person=person, batch=batch)
        for _ in range(i + 1):
            await create_flag(session, period=period, ubigeo=PIURA, person_id=people[PIURA].id)
        await create_flag(
            session, kind="cse_expired", severity="medium", period=period, ubigeo=LIMA
        )
    await create_flag(session, period="2026-10", ubigeo=SULLANA)


async def _board(client: httpx.AsyncClient, query: str = "") -> tuple[int, str, str]:
    response = await client.get(f"/analista/tablero{query}")
    scope = re.search(r'<p class="ambito" id="ambito">(.*?)</p>', response.text, re.S)
    assert scope is not None, response.text
    return response.status_code, visible_text(response.text), visible_text(scope.group(1))


class TestDashboard:
    async def test_trend_shows_every_period_per_kind(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        await _three_periods(session)
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        status, text, scope = await _board(staff_client)
        assert status == 200
        assert scope == "Todo el país · Todos los programas · el último periodo de cada programa"
        trend = text[text.index("Alertas por periodo") :]
        for label, total in (("agosto", 2), ("setiembre", 3), ("octubre", 5)):
            assert f"{label} de 2026 {total} alertas" in trend, trend
        # each period's kinds, in words, for readers who do not see the bars
        assert "Persona fallecida antes del periodo: 4" in trend
        assert "Clasificación socioeconómica no vigente: 1" in trend
        assert "Usuarios en los padrones 3" in text  # October's roll: three people

    async def test_department_filter_keeps_its_label(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        await _three_periods(session)
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        status, text, scope = await _board(staff_client, "?departamento=20&programa=PENSION65")
        assert status == 200
        assert scope.startswith("Departamento de Piura · Pensión 65")
        assert "Todo el país" not in text
        assert "Clasificación socioeconómica" not in text  # Lima's flags are not Piura's
        assert "octubre de 2026 4 alertas" in text  # three in the city, one in Sullana
        assert "Usuarios en los padrones 2" in text
        assert (
            'value="20" selected'
            in (await staff_client.get("/analista/tablero?departamento=20")).text
        )

    async def test_province_and_period_filters(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        await _three_periods(session)
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        status, text, scope = await _board(
            staff_client, "?departamento=20&provincia=2006&periodo=2026-09"
        )
        assert status == 200
        assert scope == "Provincia de Sullana (Piura) · Todos los programas · setiembre de 2026"
        assert "Usuarios en los padrones 1" in text
        assert "Alertas abiertas 0" in text  # Sullana's only flag is October's
        assert "octubre de 2026 1 alertas" in text  # the trend still shows the periods

    async def test_a_bad_period_is_said_in_spanish(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        status, text, scope = await _board(staff_client, "?periodo=ayer")
        assert status == 400
        assert "No se pudo completar" in text
        assert scope.startswith("Todo el país")

    async def test_page_needs_no_inline_style_or_script(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        await _three_periods(session)
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        page = await staff_client.get("/analista/tablero")
        assert "style=" not in page.text
        assert "<style" not in page.text
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None
        assert page.text.count("<rect") > 6


class TestDashboardApi:
    async def test_json_has_the_scope_and_the_trend(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        from tests.rnu.staff.support import login

        await _three_periods(session)
        user = await create_staff_user(session)
        await login(staff_client, user.username)
        response = await staff_client.get(
            "/api/v1/analista/tablero", params={"departamento": "20", "provincia": "2006"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ambito"] == "Provincia de Sullana (Piura)"
        assert body["tendencia"] == [{"periodo": "2026-10", "alertas_por_tipo": {"deceased": 1}}]
        country = (await staff_client.get("/api/v1/analista/tablero")).json()
        assert [t["periodo"] for t in country["tendencia"]] == list(PERIODS)
        assert country["ambito"] == "Todo el país"
        bad = await staff_client.get("/api/v1/analista/tablero", params={"periodo": "ayer"})
        assert bad.status_code == 400
