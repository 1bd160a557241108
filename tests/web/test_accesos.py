"""Issue 13.4: "¿Quién revisó sus datos?" in words, grouped, with Lima date and time; analysts
say why before they open a person, and the citizen reads that reason."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.masking import dni_hmac
from rnu.audit.models import AuditEvent
from tests.api import public_support
from tests.api.public_support import seed_person
from tests.factories import STAFF_PASSWORD, create_api_client, create_flag, create_staff_user
from tests.rnu.staff.support import staff_client
from tests.web.test_analista_pages import form_login

bound_state = public_support.bound_state
public_client = public_support.public_client
__all__ = ["staff_client"]

PUBLIC_SECRET = b"test-secret-for-public"
DNI, BIRTH = "07654321", "09/03/1950"


def accesos(page: str) -> list[str]:
    """The lines of the access-log section, as text."""
    section = page.split('id="t-accesos"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, flags=re.S)
    return [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", i)).split()) for i in items]


async def _lookup(client: httpx.AsyncClient) -> str:
    response = await client.post("/consulta", data={"dni": DNI, "fecha_nacimiento": BIRTH})
    assert response.status_code == 200, response.text[:300]
    return response.text


class TestWhoReadMyData:
    async def test_names_purposes_times_and_groups(
        self, session: AsyncSession, public_client: httpx.AsyncClient
    ) -> None:
        await seed_person(session, doc_number=DNI, birth_on=date(1950, 3, 9))
        client, _ = await create_api_client(
            session, agency="FISE-OSINERGMIN", public_name="Fondo de Inclusión Social Energético"
        )
        me = dni_hmac(PUBLIC_SECRET, DNI)
        agency = f"agency:{client.id}:FISE-OSINERGMIN"

        def read(at: datetime, kind: str, actor: str, action: str, purpose: str | None) -> None:
            session.add(
                AuditEvent(
                    at=at, actor_kind=kind, actor_id=actor, action=action,
                    purpose=purpose, subject_hmac=me,
                )
            )  # fmt: skip

        # 14:00 UTC on 1 December is 09:00 in Lima; thirteen queue reads by one analyst.
        start = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        for i in range(13):
            read(start + timedelta(minutes=7 * i), "analyst", "analyst:ana", "flag.view",
                 "revisar_alerta")  # fmt: skip
        # Rows from before purposes were asked: worded by what the analyst was doing.
        read(start, "analyst", "analyst:ana", "flag.list", None)
        # 03:00 UTC on 3 December is still 2 December (22:00) in Lima; 06:00 UTC is 3 December.
        read(datetime(2026, 12, 3, 3, 0, tzinfo=UTC), "agency", agency, "graphql", "elegibilidad")
        read(datetime(2026, 12, 3, 6, 0, tzinfo=UTC), "agency", agency, "graphql", "elegibilidad")
        await session.flush()

        lines = accesos(await _lookup(public_client))
        assert lines == [
            "Fondo de Inclusión Social Energético · Entidad del Estado "
            "Para qué: Verificar si usted cumple los requisitos de un programa "
            "Cuándo: 3 de diciembre de 2026, 01:00",
            "Fondo de Inclusión Social Energético · Entidad del Estado "
            "Para qué: Verificar si usted cumple los requisitos de un programa "
            "Cuándo: 2 de diciembre de 2026, 22:00",
            "Analista del RNU Para qué: Revisar una alerta sobre su registro "
            "Cuándo: 1 de diciembre de 2026, de 09:00 a 10:24 (13 veces)",
            "Analista del RNU Para qué: Revisión de la lista de alertas "
            "Cuándo: 1 de diciembre de 2026, 09:00",
        ]
        joined = " ".join(lines)
        for internal in ("agency:", "FISE-OSINERGMIN", "elegibilidad", "No indicado"):
            assert internal not in joined

    async def test_agency_without_public_name_shows_its_code_not_its_id(
        self, session: AsyncSession, public_client: httpx.AsyncClient
    ) -> None:
        await seed_person(session, doc_number=DNI, birth_on=date(1950, 3, 9))
        client, _ = await create_api_client(session, agency="SIS-MINSA")
        session.add(
            AuditEvent(
                actor_kind="agency", actor_id=f"agency:{client.id}:SIS-MINSA", action="graphql",
                purpose="verificacion", subject_hmac=dni_hmac(PUBLIC_SECRET, DNI),
            )
        )  # fmt: skip
        await session.flush()
        (line,) = accesos(await _lookup(public_client))
        assert line.startswith(
            "SIS-MINSA · Entidad del Estado Para qué: Verificar en qué programas"
        )
        assert f"agency:{client.id}" not in line


class TestAnalystStatesPurpose:
    async def test_no_purpose_no_person_and_the_citizen_reads_the_reason(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        person = await seed_person(
            session, doc_number=DNI, birth_on=date(1950, 3, 9), nombres="EUSEBIA"
        )
        flag = await create_flag(session, person_id=person.id)
        user = await create_staff_user(session)
        await form_login(staff_client, "analista", user.username, STAFF_PASSWORD)
        url = f"/analista/alertas/{flag.id}"

        ask = await staff_client.get(url)
        assert ask.status_code == 200
        assert "EUSEBIA" not in ask.text
        assert DNI not in ask.text
        assert "indique para qué los abre" in ask.text
        assert '<select id="finalidad" name="finalidad" required' in ask.text
        assert "Revisar una alerta sobre su registro" in ask.text
        for bad in ("", "curiosidad"):
            refused = await staff_client.get(url, params={"finalidad": bad})
            assert refused.status_code == 400
            assert "EUSEBIA" not in refused.text
            assert "sin un motivo de la lista no se muestran" in refused.text

        shown = await staff_client.get(url, params={"finalidad": "atender_reporte"})
        assert shown.status_code == 200
        assert "EUSEBIA" in shown.text
        # Every action form carries the purpose back, so the page after it shows the person.
        forms = shown.text.count('action="/analista/alertas/')
        assert shown.text.count('name="finalidad" value="atender_reporte"') == forms

        await staff_client.post("/analista/salir", data={"csrf_token": _csrf(shown.text)})
        lines = accesos(await _lookup(staff_client))
        (line,) = [x for x in lines if "reporte" in x]
        assert line.startswith("Analista del RNU Para qué: Atender un reporte ciudadano")
        assert re.search(r"Cuándo: \d{1,2} de \w+ de \d{4}, \d{2}:\d{2}$", line)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_every_declared_purpose_has_words() -> None:
    """Agencies' X-Purpose codes and analysts' choices all read as Spanish for the citizen."""
    from api.auth.agency import PURPOSES as AGENCY_PURPOSES
    from rnu.audit.purposes import ANALYST_PURPOSES
    from usecases import wording

    for code in (*AGENCY_PURPOSES, *ANALYST_PURPOSES):
        label = wording.purpose_label(code)
        assert label in wording.PURPOSES.values(), code
        assert "_" not in label
