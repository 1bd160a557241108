"""Volunteer area: district rolls without DNI or minors, reports with checked evidence, tasks."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.report.models import CitizenReport
from rnu.sqlexec import execute
from rnu.staff.models import Evidence, FieldTask, FlagEvent, VolunteerReport
from tests.factories import (
    STAFF_PASSWORD,
    create_batch,
    create_enrollment,
    create_flag,
    create_household,
    create_person,
    create_staff_user,
)
from tests.rnu.staff.support import login, staff_client
from tests.web.test_analista_pages import form_login, page_csrf

__all__ = ["staff_client"]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML_AS_JPG = b"<html><script>alert(1)</script></html>"


async def enrolled(session: AsyncSession, **person: object):
    household = await create_household(session, ubigeo="150101")
    created = await create_person(session, household=household, ubigeo="150101", **person)
    batch = await create_batch(session, source="JUNTOS", period="2026-10")
    await create_enrollment(session, person=created, batch=batch, household_id=household.id)
    return created


class TestRoll:
    async def test_full_names_no_dni_no_minors(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        volunteer = await create_staff_user(session, role="volunteer", districts=["150101"])
        await enrolled(session, nombres="AURELIA", doc_number="09876543")
        await enrolled(session, nombres="NIÑA", birth_on=date(2015, 1, 1))
        await form_login(staff_client, "voluntarios", volunteer.username, STAFF_PASSWORD)
        page = await staff_client.get(
            "/voluntarios/padron", params={"ubigeo": "150101", "programa": "JUNTOS"}
        )
        assert page.status_code == 200
        assert "AURELIA QUISPE MAMANI" in page.text
        assert "09876543" not in page.text
        assert "NIÑA" not in page.text
        other = await staff_client.get(
            "/voluntarios/padron", params={"ubigeo": "080101", "programa": "JUNTOS"}
        )
        assert other.status_code == 403


class TestReport:
    async def _form(self, client: httpx.AsyncClient) -> str:
        return page_csrf((await client.get("/voluntarios/reportar")).text)

    async def test_evidence_checked_by_magic_bytes(
        self, session: AsyncSession, staff_client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        volunteer = await create_staff_user(session, role="volunteer", districts=["150101"])
        await form_login(staff_client, "voluntarios", volunteer.username, STAFF_PASSWORD)
        csrf = await self._form(staff_client)
        data = {
            "csrf_token": csrf,
            "ubigeo": "150101",
            "programa": "JUNTOS",
            "motivo": "no_vive_en_el_distrito",
            "texto": "La titular vive en Ica desde 2024.",
        }
        fake = await staff_client.post(
            "/voluntarios/reportar",
            data=data,
            files={"archivo": ("foto.jpg", HTML_AS_JPG, "image/jpeg")},
        )
        assert fake.status_code == 400
        assert "foto (JPG, PNG o WebP) o un PDF" in fake.text
        big = await staff_client.post(
            "/voluntarios/reportar",
            data=data,
            files={"archivo": ("foto.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")},
        )
        assert big.status_code == 400
        assert (await execute(session, select(CitizenReport))).scalars().all() == []
        ok = await staff_client.post(
            "/voluntarios/reportar", data=data, files={"archivo": ("x.png", PNG, "image/png")}
        )
        assert ok.status_code == 200, ok.text
        code = re.search(r'id="codigo">([^<]+)<', ok.text)
        assert code is not None
        report = (await execute(session, select(CitizenReport))).scalar_one()
        assert report.tracking_code == code.group(1)
        assert report.reporter_role == "volunteer"
        link = await session.get(VolunteerReport, report.id)
        assert link is not None
        assert link.user_id == volunteer.id
        evidence = (await execute(session, select(Evidence))).scalar_one()
        assert evidence.media_type == "image/png"
        stored = tmp_path / "evidencia" / evidence.stored_name
        assert stored.read_bytes() == PNG
        listing = await staff_client.get("/voluntarios/reportes")
        assert report.tracking_code in listing.text

    async def test_csrf_required_on_report(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        volunteer = await create_staff_user(session, role="volunteer", districts=["150101"])
        await form_login(staff_client, "voluntarios", volunteer.username, STAFF_PASSWORD)
        response = await staff_client.post(
            "/voluntarios/reportar",
            data={"ubigeo": "150101", "programa": "JUNTOS", "motivo": "otro", "texto": "x"},
        )
        assert response.status_code == 403


class TestTasks:
    async def test_answer_attaches_to_the_flag(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        analyst = await create_staff_user(session)
        volunteer = await create_staff_user(session, role="volunteer", districts=["150101"])
        person = await enrolled(session, nombres="TEÓFILO")
        flag = await create_flag(session, person_id=person.id, ubigeo="150101")
        csrf = await login(staff_client, analyst.username)
        created = await staff_client.post(
            f"/api/v1/analista/alertas/{flag.id}/tareas",
            json={"voluntario": volunteer.username, "instrucciones": "Visitar el domicilio."},
            headers={"X-CSRF-Token": csrf},
        )
        assert created.status_code == 201, created.text
        staff_client.cookies.clear()
        await form_login(staff_client, "voluntarios", volunteer.username, STAFF_PASSWORD)
        page = await staff_client.get("/voluntarios/tareas")
        assert "TEÓFILO" in page.text
        task_id = created.json()["id"]
        answer = await staff_client.post(
            f"/voluntarios/tareas/{task_id}",
            data={
                "csrf_token": page_csrf(page.text),
                "hallazgo": "no_confirma",
                "respuesta": "Vive en el distrito, la vimos.",
            },
        )
        assert answer.status_code == 303
        task = await session.get(FieldTask, task_id)
        assert task is not None
        await session.refresh(task)
        assert task.status == "answered"
        events = (
            (await execute(session, select(FlagEvent).where(col(FlagEvent.flag_id) == flag.id)))
            .scalars()
            .all()
        )
        assert [e.action for e in events] == ["task", "task_answer"]
        assert events[1].details["finding"] == "no_confirma"
