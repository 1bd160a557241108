"""Issue 13.5: other programs the citizen may qualify for, the PDF constancia and /verificar.

Real PostgreSQL and Redis; the app sees the test's transaction (``public_support``).
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlmodel import select

from privacy.masking import dni_hmac
from rnu.audit.models import AuditEvent
from rnu.constancia.models import Constancia
from rnu.sqlexec import run_sql
from tests.api import public_support
from tests.api.public_support import bind, make_client, seed_person
from tests.factories import create_batch, create_enrollment, create_household, create_person

bound_state = public_support.bound_state
public_client = public_support.public_client

SECRET = b"test-secret-for-public"
DNI = "07654321"
FORM = {"dni": DNI, "fecha_nacimiento": "09/03/1950"}
CODE = re.compile(r"CON-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


async def _rolls(session, *programs: str, period: str = "2026-10") -> None:
    for program in programs:
        await create_batch(session, source=program, period=period)


async def _holder(session):
    """A 76-year-old in extreme poverty on Pensión 65, alone in her household."""
    household = await create_household(session, cse="PE")
    return await seed_person(session, doc_number=DNI, household=household)


async def _scalar(session, sql: str, **params):
    return (await run_sql(session, sql, params)).scalar_one()


def _form_value(html: str) -> str:
    match = re.search(r'name="flujo" value="([^"]+)"', html)
    assert match, "the result page has no constancia form"
    return match.group(1)


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


class TestOtherPrograms:
    async def test_eligible_not_received_listed_with_what_to_do(self, session, public_client):
        await _holder(session)
        # Rolls RNU holds: SIS (she qualifies), Juntos (no one under 19 at home), Qali Warma
        # (age), Cuna Más (age). Beca 18 has no roll loaded, so it is not judged at all.
        await _rolls(session, "SIS", "JUNTOS", "QALIWARMA", "CUNAMAS")
        response = await public_client.post("/consulta", data=FORM)
        assert response.status_code == 200, response.text[:500]
        otros = _section(response.text, "t-otros")
        assert "SIS Subsidiado" in otros
        assert "Qué hacer:" in otros
        assert "establecimiento de salud" in otros
        assert "514-5555" in otros  # the one number an official page gives, with its source
        assert "Fuente: Seguro Integral de Salud" in otros
        for excluded in ("Juntos", "Qali Warma", "Cuna Más", "Beca 18", "Pensión 65"):
            assert excluded not in otros, excluded

    async def test_api_answer_carries_the_same_list(self, session, public_client):
        await _holder(session)
        await _rolls(session, "SIS", "JUNTOS")
        body = (
            await public_client.post(
                "/api/v1/consulta", json={"dni": DNI, "fecha_nacimiento": "1950-03-09"}
            )
        ).json()
        assert [o["codigo"] for o in body["otros_programas"]] == ["SIS"]
        sis = body["otros_programas"][0]
        assert sis["cumple"] is True
        assert sis["periodo"] == "2026-10"
        assert "no figura en el padrón de octubre de 2026" in sis["resumen"]

    async def test_household_program_a_relative_receives_is_not_offered(
        self, session, public_client
    ):
        household = await create_household(session, cse="PE")
        await seed_person(session, doc_number=DNI, household=household)
        relative = await create_person(session, household=household, birth_on=date(1975, 1, 1))
        fise = await create_batch(session, source="FISE", period="2026-10")
        await create_enrollment(session, person=relative, batch=fise, household_id=household.id)
        response = await public_client.post("/consulta", data=FORM)
        assert "FISE" not in _section(response.text, "t-otros")

    async def test_incompatible_program_is_not_offered(self, session, public_client):
        await _holder(session)
        await _rolls(session, "CONTIGO")
        # She is on Pensión 65 in October, which Contigo cannot be received with.
        response = await public_client.post("/consulta", data=FORM)
        assert "Contigo" not in _section(response.text, "t-otros")

    async def test_unverifiable_rule_is_offered_as_could_qualify(self, session, public_client):
        household = await create_household(session, cse="P")
        await seed_person(
            session,
            doc_number="07654322",
            birth_on=date(1986, 4, 2),
            household=household,
            programs=(),
        )
        await _rolls(session, "CONTIGO")
        response = await public_client.post(
            "/consulta", data={"dni": "07654322", "fecha_nacimiento": "02/04/1986"}
        )
        otros = _section(response.text, "t-otros")
        assert "Contigo" in otros
        assert "podría cumplir los requisitos de Contigo" in otros
        assert "falta un dato que el RNU no tiene" in otros
        assert "certificado de discapacidad" in otros

    async def test_nothing_to_offer_says_so(self, session, public_client):
        await _holder(session)
        response = await public_client.post("/consulta", data=FORM)
        otros = _section(response.text, "t-otros")
        assert "no encontramos otro programa" in otros


async def _lookup(client) -> str:
    response = await client.post("/consulta", data=FORM)
    assert response.status_code == 200, response.text[:500]
    return _form_value(response.text)


async def _download(client, session) -> tuple[bytes, str]:
    flujo = await _lookup(client)
    response = await client.post("/consulta/constancia", data={"flujo": flujo})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    text_ = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    match = CODE.search(text_)
    assert match, text_
    return response.content, match.group(0)


class TestConstanciaPdf:
    async def test_valid_pdf_with_code_and_masked_dni(self, session, public_client):
        await _holder(session)
        pdf, code = await _download(public_client, session)
        assert pdf.startswith(b"%PDF-")
        text_ = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert "*****321" in text_
        assert DNI not in text_
        assert "1950" not in text_  # no birth date
        assert "Pensión 65" in text_
        assert "pobre extremo" in text_
        row = (await session.exec(select(Constancia).where(Constancia.code == code))).one()
        assert row.dni_masked == "*****321"
        stored = await _scalar(
            session, "SELECT row_to_json(c)::text FROM constancia c WHERE code = :c", c=code
        )
        assert DNI not in stored
        assert "1950-03-09" not in stored
        assert "ROSA MARÍA" not in stored  # the name is stored masked

    async def test_download_is_audited_on_the_person(self, session, public_client):
        await _holder(session)
        _, code = await _download(public_client, session)
        rows = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "constancia.issue"))
        ).all()
        assert len(rows) == 1
        assert rows[0].subject_hmac == dni_hmac(SECRET, DNI)
        assert rows[0].actor_kind == "citizen"
        assert rows[0].details == {"codigo": code}

    async def test_a_second_download_reprints_the_same_constancia(self, session, public_client):
        await _holder(session)
        flujo = await _lookup(public_client)
        codes = []
        for _ in range(2):
            response = await public_client.post("/consulta/constancia", data={"flujo": flujo})
            page = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
            codes.append(CODE.search(page).group(0))  # type: ignore[union-attr]
        assert codes[0] == codes[1]
        count = await _scalar(session, "SELECT count(*) FROM constancia")
        assert count == 1
        audits = await _scalar(
            session, "SELECT count(*) FROM audit_event WHERE action = 'constancia.issue'"
        )
        assert audits == 2  # every download is a read of her data

    async def test_no_pdf_without_the_lookup_flow(self, session, bound_state):
        await _holder(session)
        async with await make_client(bound_state) as holder:
            flujo = await _lookup(holder)
            async with await make_client(bound_state) as stranger:
                # The form value alone (no cookie): refused, in Spanish, no PDF.
                refused = await stranger.post("/consulta/constancia", data={"flujo": flujo})
                assert refused.status_code == 410
                assert "vuelva a hacer su consulta" in refused.text
                assert refused.headers["content-type"].startswith("text/html")
            # The cookie without the page's form value (a cross-site post): refused.
            forged = await holder.post("/consulta/constancia", data={"flujo": "x" * 32})
            assert forged.status_code == 403
            assert "application/pdf" not in forged.headers["content-type"]
        count = await _scalar(session, "SELECT count(*) FROM constancia")
        assert count == 0

    async def test_failed_lookup_opens_no_flow(self, session, public_client):
        await _holder(session)
        wrong = await public_client.post(
            "/consulta", data={"dni": DNI, "fecha_nacimiento": "10/03/1950"}
        )
        assert wrong.status_code == 404
        assert "rnu_constancia" not in wrong.headers.get("set-cookie", "")
        assert 'name="flujo"' not in wrong.text


class TestVerificar:
    async def test_genuine_code_shows_what_it_certified(self, session, public_client):
        await _holder(session)
        _, code = await _download(public_client, session)
        for typed in (code, code.lower(), code.replace("-", " ")):
            response = await public_client.get("/verificar", params={"codigo": typed})
            assert response.status_code == 200, typed
            assert "Constancia auténtica" in response.text
            assert "*****321" in response.text
            assert "ROSA M. Q*** M***" in response.text
            assert "Pensión 65" in response.text
        assert DNI not in response.text
        assert "ROSA MARÍA" not in response.text
        assert "1950" not in response.text

    @pytest.mark.parametrize(
        "typed",
        ["CON-0000-0000-0000", "abc", "CON-", "ññññ", "' OR 1=1 --", "CON-ZZZZ-ZZZZ-ZZZU"],
    )
    async def test_wrong_code_is_refused_in_spanish(self, public_client, typed):
        response = await public_client.get("/verificar", params={"codigo": typed})
        assert response.status_code == 404
        assert "No encontramos una constancia con ese código" in response.text
        assert 'id="codigo-error" role="alert"' in response.text

    async def test_overlong_code_is_a_spanish_page_not_a_500(self, public_client):
        response = await public_client.get(
            "/verificar", params={"codigo": "C" * 500}, headers={"accept": "text/html"}
        )
        assert 400 <= response.status_code < 500
        assert response.headers["content-type"].startswith("text/html")

    async def test_empty_form_is_the_form(self, public_client):
        response = await public_client.get("/verificar")
        assert response.status_code == 200
        assert 'for="codigo"' in response.text

    async def test_altered_content_is_not_called_genuine(self, session, public_client):
        await _holder(session)
        _, code = await _download(public_client, session)
        await run_sql(
            session,
            "UPDATE constancia SET certified = jsonb_set(certified, '{hogar}', "
            "'\"Hogar no pobre.\"') WHERE code = :c",
            {"c": code},
        )
        response = await public_client.get("/verificar", params={"codigo": code})
        assert "Constancia auténtica" not in response.text
        assert "datos alterados" in response.text

    async def test_rate_limited_per_client(self, session, app_state):
        state = bind(app_state, session, verify_per_client=3)
        async with await make_client(state) as client:
            statuses = [
                (
                    await client.get("/verificar", params={"codigo": "CON-0000-0000-0000"})
                ).status_code
                for _ in range(5)
            ]
            last = await client.get("/verificar", params={"codigo": "CON-0000-0000-0000"})
        assert statuses == [404, 404, 404, 429, 429]
        assert "demasiadas verificaciones" in last.text
