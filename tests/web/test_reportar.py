"""Issue 13.6: reporting without a roll entry picks department → province → district with plain
GET forms (no typed ubigeo); the volunteers' form offers the district's programs and names the
person reported as the volunteer's roll shows them."""

from __future__ import annotations

import re
from datetime import date

import httpx
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.masking import dni_hmac, entry_id
from rnu.audit.models import AuditEvent
from rnu.report.models import CitizenReport
from rnu.roll.models import roll_entry_key
from rnu.sqlexec import execute
from tests.api import public_support
from tests.api.test_padrones import ADULTS, _roll
from tests.factories import STAFF_PASSWORD, create_staff_user
from tests.rnu.staff.support import SECRET as STAFF_SECRET
from tests.rnu.staff.support import staff_client
from tests.web.test_analista_pages import form_login, page_csrf

bound_state = public_support.bound_state
public_client = public_support.public_client
__all__ = ["staff_client"]


def options(page: str, select_id: str) -> list[tuple[str, str]]:
    """(value, text) of a select's options; [] when the page has no such select."""
    found = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, flags=re.S)
    if found is None:
        return []
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))


def selected(page: str, select_id: str) -> str | None:
    found = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, flags=re.S)
    assert found is not None
    value = re.search(r'<option value="([^"]*)" selected>', found.group(1))
    return value.group(1) if value else None


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))


class TestPublicPickers:
    async def test_department_then_province_then_district_without_javascript(
        self, session: AsyncSession, public_client: httpx.AsyncClient
    ) -> None:
        await _roll(session, "PENSION65", ADULTS)  # Cusco (080101) has Pensión 65 only
        start = (await public_client.get("/reportar")).text
        assert 'name="ubigeo" type="text"' not in start  # no hand-typed code any more
        assert len(options(start, "departamento")) == 26  # "Elija…" + 25 departments
        assert options(start, "provincia") == []
        assert 'method="post"' not in start  # the case comes after the place
        assert "Ver las provincias" in start

        dep = (await public_client.get("/reportar", params={"departamento": "08"})).text
        assert selected(dep, "departamento") == "08"
        assert ("0801", "Cusco") in options(dep, "provincia")
        assert options(dep, "distrito") == []

        prov = await public_client.get(
            "/reportar", params={"departamento": "08", "provincia": "0801"}
        )
        assert ("080101", "Cusco") in options(prov.text, "distrito")
        assert 'method="post"' not in prov.text

        place = {"departamento": "08", "provincia": "0801", "distrito": "080101"}
        form = (await public_client.get("/reportar", params=place)).text
        assert "2. El caso en Cusco (Cusco, Cusco)" in form
        assert hidden(form)["ubigeo"] == "080101"
        assert options(form, "programa") == [("", "No sé"), ("PENSION65", "Pensión 65")]

        fields = hidden(form) | {
            "programa": "PENSION65",
            "motivo": "no_vive_en_el_distrito",
            "descripcion": "Vive en Lima desde hace dos años.",
        }
        received = await public_client.post("/reportar", data=fields)
        assert received.status_code == 200, received.text[:300]
        report = (await execute(session, select(CitizenReport))).scalars().one()
        assert (report.ubigeo, report.program_code) == ("080101", "PENSION65")

    async def test_a_level_outside_the_one_above_is_dropped(
        self, public_client: httpx.AsyncClient
    ) -> None:
        # The department changed from Cusco to Lima: the old province and district stay behind.
        params = {"departamento": "15", "provincia": "0801", "distrito": "080101"}
        page = (await public_client.get("/reportar", params=params)).text
        assert selected(page, "departamento") == "15"
        assert selected(page, "provincia") is None
        assert ("1501", "Lima") in options(page, "provincia")
        assert options(page, "distrito") == []
        assert 'name="ubigeo"' not in page

    async def test_a_failed_report_keeps_the_place(self, public_client: httpx.AsyncClient) -> None:
        response = await public_client.post("/reportar", data={"ubigeo": "080101", "motivo": ""})
        assert response.status_code == 400
        assert selected(response.text, "distrito") == "080101"
        assert 'id="motivo-error" role="alert"' in response.text


class TestVolunteerForm:
    async def test_district_then_its_programs(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        await _roll(session, "PENSION65", ADULTS)
        volunteer = await create_staff_user(
            session, role="volunteer", districts=["080101", "150101"]
        )
        await form_login(staff_client, "voluntarios", volunteer.username, STAFF_PASSWORD)
        start = (await staff_client.get("/voluntarios/reportar")).text
        assert options(start, "ubigeo")[0] == ("", "Elija el distrito")
        assert 'id="programa"' not in start
        page = (await staff_client.get("/voluntarios/reportar", params={"ubigeo": "080101"})).text
        assert '<input id="programa"' not in page  # no free text pre-filled with JUNTOS
        assert options(page, "programa") == [("PENSION65", "Pensión 65")]
        data = {
            "csrf_token": page_csrf(page),
            "ubigeo": "080101",
            "programa": "JUNTOS",  # not a program of this district
            "motivo": "otro",
            "texto": "Lo vi cobrar en otra provincia.",
        }
        refused = await staff_client.post("/voluntarios/reportar", data=data)
        assert refused.status_code == 400
        assert "Elija uno de los programas del distrito." in refused.text
        ok = await staff_client.post("/voluntarios/reportar", data=data | {"programa": "PENSION65"})
        assert ok.status_code == 200, ok.text[:300]

    async def test_names_the_person_reported_as_the_volunteer_roll_does(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        _, rosa = await _roll(session, "PENSION65", ADULTS)
        (child,) = await _roll(
            session, "PENSION65", [{"nombres": "NIÑA", "birth_on": date(2015, 1, 1)}]
        )
        volunteer = await create_staff_user(session, role="volunteer", districts=["080101"])
        await form_login(staff_client, "voluntarios", volunteer.username, STAFF_PASSWORD)
        roll = await staff_client.get(
            "/voluntarios/padron", params={"ubigeo": "080101", "programa": "PENSION65"}
        )
        link = re.search(r'href="(/voluntarios/reportar\?[^"]+)"', roll.text)
        assert link is not None
        page = (await staff_client.get(link.group(1).replace("&amp;", "&"))).text
        match = re.search(r'id="reportado">(.*?)</p>', page, flags=re.S)
        assert match is not None
        shown = re.sub(r"<[^>]+>", "", match.group(1))
        # The roll is ordered by surname: HUAMÁN before QUISPE.
        assert shown.startswith("Persona reportada: ROSA HUAMÁN CCORI, del padrón de Pensión 65")
        assert rosa.doc_number not in page
        reads = (
            (
                await execute(
                    session,
                    select(AuditEvent).where(col(AuditEvent.action) == "report.prepare"),
                )
            )
            .scalars()
            .all()
        )
        assert [(r.actor_id, r.subject_hmac) for r in reads] == [
            (f"volunteer:{volunteer.username}", dni_hmac(STAFF_SECRET.encode(), rosa.doc_number))
        ]
        # A minor is never named, even by an id that points at them.
        key = entry_id(STAFF_SECRET.encode(), roll_entry_key("PENSION65", child.id))
        minor = await staff_client.get(
            "/voluntarios/reportar",
            params={"ubigeo": "080101", "programa": "PENSION65", "entrada": key},
        )
        assert "NIÑA" not in minor.text
        assert "cuyos datos están protegidos" in minor.text
