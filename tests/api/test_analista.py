"""The analysts' JSON API: login, authorisation, CSRF, audit, flag actions, review (the login
throttle and TOTP: tests/api/test_staff_login.py)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.masking import dni_hmac
from rnu.audit.models import AuditEvent
from rnu.enrollment.models import Enrollment, RollRow
from rnu.flag.models import Flag
from rnu.report.models import CitizenReport
from rnu.review.models import MatchReviewItem
from rnu.sqlexec import execute
from rnu.staff.models import FlagEvent, StaffSession
from rnu.staff.service import token_hash
from tests.factories import (
    create_batch,
    create_enrollment,
    create_flag,
    create_household,
    create_person,
    create_staff_user,
)
from tests.rnu.staff.support import SECRET, enrol_totp, login, staff_client

__all__ = ["staff_client"]

API = "/api/v1/analista"


async def audit_rows(session: AsyncSession, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(col(AuditEvent.action) == action)
    return list((await execute(session, query)).scalars())


class TestLogin:
    async def test_cookie_is_httponly_lax_and_rotated(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        await login(staff_client, user.username)
        first = staff_client.cookies["rnu_sesion"]
        response = await staff_client.post(
            f"{API}/sesion", json={"usuario": user.username, "contrasena": "clave-de-prueba-123"}
        )
        header = response.headers["set-cookie"].lower()
        assert "httponly" in header
        assert "samesite=lax" in header
        assert "secure" not in header  # plain-HTTP test client; Secure outside local/test
        second = staff_client.cookies["rnu_sesion"]
        assert second != first
        old = (
            await execute(
                session,
                select(StaffSession).where(col(StaffSession.token_hash) == token_hash(first)),
            )
        ).scalar_one()
        assert old.revoked_at is not None  # the pre-login token is dead

    async def test_wrong_password_is_401(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        response = await staff_client.post(
            f"{API}/sesion", json={"usuario": user.username, "contrasena": "no-es-esta-clave"}
        )
        assert response.status_code == 401
        assert "rnu_sesion" not in staff_client.cookies

    async def test_logout_ends_the_session(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        csrf = await login(staff_client, user.username)
        token = staff_client.cookies["rnu_sesion"]
        response = await staff_client.delete(f"{API}/sesion", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 204
        staff_client.cookies.set("rnu_sesion", token)  # replaying the old cookie
        assert (await staff_client.get(f"{API}/sesion")).status_code == 401


class TestAuthorisation:
    @pytest.mark.parametrize(
        "path", ["/alertas", "/alertas/1", "/alertas.csv", "/revision", "/tablero", "/sesion"]
    )
    async def test_public_caller_gets_401(self, staff_client: httpx.AsyncClient, path: str) -> None:
        response = await staff_client.get(API + path)
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"

    async def test_volunteer_gets_403(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        volunteer = await create_staff_user(session, role="volunteer")
        await login(staff_client, volunteer.username)
        for path in ("/alertas", "/revision", "/tablero"):
            response = await staff_client.get(API + path)
            assert response.status_code == 403
            assert response.json()["error"] == "Forbidden"

    async def test_bulk_needs_a_supervisor(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        analyst = await create_staff_user(session)
        csrf = await login(staff_client, analyst.username)
        response = await staff_client.post(
            f"{API}/alertas/lote",
            json={"accion": "confirm", "filtros": {"tipo": "deceased"}},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 403


class TestCsrf:
    async def test_missing_or_wrong_token_rejected(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        flag = await create_flag(session)
        csrf = await login(staff_client, user.username)
        url = f"{API}/alertas/{flag.id}/descartar"
        body = {"motivo": "Verificado en campo: vive en el distrito."}
        assert (await staff_client.post(url, json=body)).status_code == 403
        wrong = {"X-CSRF-Token": csrf[:-2] + "xx"}
        assert (await staff_client.post(url, json=body, headers=wrong)).status_code == 403
        await session.refresh(flag)
        assert flag.status == "open"
        ok = await staff_client.post(url, json=body, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200


class TestFlagQueue:
    async def test_list_filters_and_audits_each_person(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        lima = await create_person(session, doc_number="07654321", ubigeo="150101")
        cusco = await create_person(session, doc_number="23456789", ubigeo="080101")
        await create_flag(session, person_id=lima.id, ubigeo="150101", kind="deceased")
        await create_flag(session, person_id=cusco.id, ubigeo="080101", kind="cse_expired")
        await login(staff_client, user.username)
        response = await staff_client.get(f"{API}/alertas", params={"departamento": "15"})
        assert response.status_code == 200
        body = response.json()
        assert [a["persona"]["dni"] for a in body["alertas"]] == ["07654321"]
        assert body["alertas"][0]["persona"]["audience"] == "analyst"
        rows = await audit_rows(session, "flag.list")
        assert [r.subject_hmac for r in rows] == [dni_hmac(SECRET.encode(), "07654321")]
        assert rows[0].actor_id == f"analyst:{user.username}"
        kinds = await staff_client.get(f"{API}/alertas", params={"tipo": "cse_expired"})
        assert [a["tipo"] for a in kinds.json()["alertas"]] == ["cse_expired"]

    async def test_detail_is_audited_with_the_dni_hmac(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        household = await create_household(session)
        person = await create_person(session, household=household, doc_number="00123456")
        batch = await create_batch(session)
        await create_enrollment(session, person=person, batch=batch)
        flag = await create_flag(session, person_id=person.id)
        await login(staff_client, user.username)
        response = await staff_client.get(f"{API}/alertas/{flag.id}")
        assert response.status_code == 400  # no purpose: the person is not shown
        assert response.json()["error"] == "PurposeRequired"
        assert response.json()["mensaje"].startswith("Elija para qué abre los datos")
        assert "00123456" not in response.text
        for bad in ("", "curiosidad"):  # not one of the listed purposes
            response = await staff_client.get(f"{API}/alertas/{flag.id}", params={"finalidad": bad})
            assert response.status_code == 422
            assert "00123456" not in response.text
        assert await audit_rows(session, "flag.view") == []
        response = await staff_client.get(
            f"{API}/alertas/{flag.id}", params={"finalidad": "revisar_alerta"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["persona"]["dni"] == "00123456"
        assert [h["programa"] for h in body["programas_en_el_tiempo"]] == ["PENSION65"]
        rows = await audit_rows(session, "flag.view")
        assert len(rows) == 1
        assert rows[0].subject_hmac == dni_hmac(SECRET.encode(), "00123456")
        assert rows[0].details == {"flag_id": flag.id}
        assert rows[0].purpose == "revisar_alerta"

    async def test_dismiss_requires_a_reason(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        flag = await create_flag(session)
        csrf = await login(staff_client, user.username)
        headers = {"X-CSRF-Token": csrf}
        url = f"{API}/alertas/{flag.id}/descartar"
        empty = await staff_client.post(url, json={"motivo": "  "}, headers=headers)
        assert empty.status_code == 400
        response = await staff_client.post(
            url, json={"motivo": "Partida de defunción corresponde a un homónimo."}, headers=headers
        )
        assert response.json() == {"accion": "dismiss", "cambiadas": 1, "alertas": [flag.id]}
        await session.refresh(flag)
        assert flag.status == "dismissed"
        assert flag.dismissed_reason == "Partida de defunción corresponde a un homónimo."
        assert flag.reviewer == f"analyst:{user.username}"
        events = (await execute(session, select(FlagEvent))).scalars().all()
        assert [(e.action, e.flag_id) for e in events] == [("dismiss", flag.id)]
        assert len(await audit_rows(session, "flag.dismiss")) == 1

    async def test_assign_comment_confirm(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        other = await create_staff_user(session)
        flag = await create_flag(session)
        csrf = await login(staff_client, user.username)
        headers = {"X-CSRF-Token": csrf}
        base = f"{API}/alertas/{flag.id}"
        r1 = await staff_client.post(
            f"{base}/asignar", json={"usuario": other.username}, headers=headers
        )
        r2 = await staff_client.post(
            f"{base}/comentarios", json={"texto": "Pedir acta a RENIEC"}, headers=headers
        )
        r3 = await staff_client.post(f"{base}/confirmar", json={}, headers=headers)
        assert [r.status_code for r in (r1, r2, r3)] == [200, 200, 200]
        detail = (await staff_client.get(base, params={"finalidad": "revisar_alerta"})).json()
        assert detail["alerta"]["estado"] == "confirmed"
        assert detail["alerta"]["asignado_a"] == other.username
        assert [e["accion"] for e in detail["historial"]] == ["assign", "comment", "confirm"]

    async def test_bulk_dismiss_on_a_filtered_set(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        supervisor = await create_staff_user(session, role="supervisor")
        secret = await enrol_totp(session, supervisor.username)
        in_set = [await create_flag(session, kind="cse_missing") for _ in range(3)]
        outside = await create_flag(session, kind="deceased")
        csrf = await login(staff_client, supervisor.username, totp_secret=secret)
        response = await staff_client.post(
            f"{API}/alertas/lote",
            json={
                "accion": "dismiss",
                "motivo": "CSE renovada por SISFOH el 02/10/2026.",
                "filtros": {"tipo": "cse_missing", "estado": "open"},
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 200
        assert response.json()["cambiadas"] == 3
        for flag in [*in_set, outside]:
            await session.refresh(flag)
        assert {f.status for f in in_set} == {"dismissed"}
        assert outside.status == "open"
        no_reason = await staff_client.post(
            f"{API}/alertas/lote",
            json={"accion": "dismiss", "filtros": {"tipo": "deceased"}},
            headers={"X-CSRF-Token": csrf},
        )
        assert no_reason.status_code == 400

    async def test_csv_export_is_defused(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        person = await create_person(
            session, nombres='=HYPERLINK("http://x.example","ver")', apellido_paterno="+SUM(A1)"
        )
        await create_flag(session, person_id=person.id, kind="not_in_pgh")
        await login(staff_client, user.username)
        response = await staff_client.get(f"{API}/alertas.csv", params={"tipo": "not_in_pgh"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == 1
        assert rows[0]["nombres"] == '\'=HYPERLINK("http://x.example","ver")'
        assert rows[0]["apellido_paterno"] == "'+SUM(A1)"
        assert len(await audit_rows(session, "flag.export")) == 2  # the person + the action


class TestCitizenReports:
    async def test_reports_enter_the_queue_linked_to_the_person(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        person = await create_person(session, doc_number="11223344")
        batch = await create_batch(session, source="JUNTOS")
        enrollment = await create_enrollment(session, person=person, batch=batch)
        report = CitizenReport(
            tracking_code="RNU-TEST-0000-0001",
            program_code="JUNTOS",
            ubigeo="150101",
            enrollment_id=enrollment.id,
            person_id=person.id,
            reason_code="no_vive_en_el_distrito",
            text="Se mudó a Arequipa hace dos años.",
            history=[{"at": "2026-10-01T00:00:00+00:00", "status": "recibido"}],
        )
        session.add(report)
        await session.flush()
        csrf = await login(staff_client, user.username)
        body = (await staff_client.get(f"{API}/alertas", params={"tipo": "citizen_report"})).json()
        assert body["total"] == 1
        flag_out = body["alertas"][0]
        assert flag_out["persona"]["dni"] == "11223344"
        assert flag_out["programa"] == "JUNTOS"
        # listing again does not duplicate it
        again = await staff_client.get(f"{API}/alertas", params={"tipo": "citizen_report"})
        assert again.json()["total"] == 1
        detail = (
            await staff_client.get(
                f"{API}/alertas/{flag_out['id']}", params={"finalidad": "atender_reporte"}
            )
        ).json()
        assert [r["codigo"] for r in detail["reportes"]] == ["RNU-TEST-0000-0001"]
        await staff_client.post(
            f"{API}/alertas/{flag_out['id']}/confirmar",
            json={},
            headers={"X-CSRF-Token": csrf},
        )
        await session.refresh(report)
        assert report.status == "verificado"
        assert report.history[-1]["status"] == "verificado"


class TestMatchReview:
    async def _item(self, session: AsyncSession) -> tuple[MatchReviewItem, RollRow, str]:
        household = await create_household(session)
        candidate = await create_person(
            session, household=household, nombres="JUAN", apellido_paterno="QUISPE"
        )
        assert candidate.pgh_key is not None
        batch = await create_batch(session, source="JUNTOS", period="2026-10")
        assert batch.id is not None
        row = RollRow(
            batch_id=batch.id,
            row_number="17",
            outcome="review",
            nombres="JUAN",
            apellido_paterno="QISPE",
            apellido_materno="MAMANI",
            full_name="QISPE MAMANI, JUAN",
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
                {
                    "person_key": candidate.pgh_key,
                    "weight": 9.5,
                    "agreements": {"paterno": "fuzzy_high", "nombres": "exact"},
                }
            ],
        )
        session.add(item)
        await session.flush()
        return item, row, candidate.pgh_key

    async def test_link_applies_immediately(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        item, row, key = await self._item(session)
        csrf = await login(staff_client, user.username)
        refused = await staff_client.get(f"{API}/revision/{item.id}")
        assert refused.status_code == 400
        assert refused.json()["error"] == "PurposeRequired"
        detail = (
            await staff_client.get(
                f"{API}/revision/{item.id}", params={"finalidad": "revisar_coincidencia"}
            )
        ).json()
        views = await audit_rows(session, "review.view")
        assert {r.purpose for r in views} == {"revisar_coincidencia"}
        assert detail["candidatos"][0]["resaltado"] == {"paterno": "partial", "nombres": "agree"}
        version = (await execute(session, text("SELECT data_version FROM registry_state"))).scalar()
        response = await staff_client.post(
            f"{API}/revision/{item.id}/decision",
            json={"decision": "link", "persona": key},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 200, response.text
        assert response.json()["controles_reejecutados"] is True  # integrity re-ran
        await session.refresh(row)
        await session.refresh(item)
        assert row.outcome == "linked"
        assert row.method == "manual_review"
        assert item.status == "linked"
        enrollment = (
            await execute(session, select(Enrollment).where(col(Enrollment.roll_row_id) == row.id))
        ).scalar_one()
        assert enrollment.person_id == row.person_id
        assert enrollment.program_code == "JUNTOS"
        assert version is not None  # the migration creates the one registry_state row
        after = (await execute(session, text("SELECT data_version FROM registry_state"))).scalar()
        # One bump for the link, one for the integrity checks' flags written after it
        # (cached statistics must not keep pre-check counts).
        assert after == version + 2
        again = await staff_client.post(
            f"{API}/revision/{item.id}/decision",
            json={"decision": "new_person"},
            headers={"X-CSRF-Token": csrf},
        )
        assert again.status_code == 409

    async def test_new_person(self, session: AsyncSession, staff_client: httpx.AsyncClient) -> None:
        user = await create_staff_user(session)
        item, row, _ = await self._item(session)
        csrf = await login(staff_client, user.username)
        response = await staff_client.post(
            f"{API}/revision/{item.id}/decision",
            json={"decision": "new_person"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 200
        await session.refresh(row)
        assert row.outcome == "unmatched"
        assert row.person_id == response.json()["persona_id"]

    async def test_link_to_a_non_candidate_is_refused(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        item, _, _ = await self._item(session)
        csrf = await login(staff_client, user.username)
        response = await staff_client.post(
            f"{API}/revision/{item.id}/decision",
            json={"decision": "link", "persona": "H999-1"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 400


class TestDashboard:
    @staticmethod
    async def _row(client: httpx.AsyncClient, department: str) -> dict[str, Any]:
        """FISE's row for one department (zeros when the dashboard has none yet)."""
        body = (await client.get(f"{API}/tablero", params={"programa": "FISE"})).json()
        found = [r for r in body["filas"] if r["departamento"] == department]
        empty = {"usuarios": 0, "alertas_por_tipo": {}, "personas_con_filtracion": 0}
        return found[0] if found else empty | {"cse_por_vencer_90_dias": 0}

    async def test_counts_per_program_and_department(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        # Exact deltas against what the shared database already holds before this test.
        user = await create_staff_user(session)
        await login(staff_client, user.username)
        before = await self._row(staff_client, "15")
        household = await create_household(session, cse_valid_to=date.today() + timedelta(days=30))
        person = await create_person(session, household=household)
        batch = await create_batch(session, source="FISE", period="2026-10")
        await create_enrollment(session, person=person, batch=batch, household_id=household.id)
        await create_flag(
            session, person_id=person.id, program_code="FISE", kind="cse_expired", period="2026-10"
        )
        lima = await self._row(staff_client, "15")
        assert lima["usuarios"] == before["usuarios"] + 1
        kinds_before = before["alertas_por_tipo"]
        assert lima["alertas_por_tipo"]["cse_expired"] == kinds_before.get("cse_expired", 0) + 1
        assert lima["personas_con_filtracion"] == before["personas_con_filtracion"] + 1
        assert lima["tasa_filtracion"] == pytest.approx(
            lima["personas_con_filtracion"] / lima["usuarios"]
        )
        assert lima["cse_por_vencer_90_dias"] == before["cse_por_vencer_90_dias"] + 1

    async def test_subcobertura_is_estimated_from_the_pgh(
        self, session: AsyncSession, staff_client: httpx.AsyncClient
    ) -> None:
        user = await create_staff_user(session)
        await login(staff_client, user.username)
        before = (await self._row(staff_client, "05")).get("subcobertura_estimada") or 0
        enrolled = await create_household(session, ubigeo="050101", cse="PE")
        titular = await create_person(session, household=enrolled, ubigeo="050101")
        batch = await create_batch(session, source="FISE", period="2026-10")
        await create_enrollment(session, person=titular, batch=batch, household_id=enrolled.id)
        left_out = await create_household(session, ubigeo="050101", cse="PE")
        await create_person(session, household=left_out, ubigeo="050101")
        ayacucho = await self._row(staff_client, "05")
        assert ayacucho["subcobertura_estimada"] == before + 1  # the one PE household left out


async def test_flag_table_untouched_by_reads(session: AsyncSession) -> None:
    """Guard: the factories' flags are real rows (the tests above rely on it)."""
    flag = await create_flag(session)
    assert (await session.get(Flag, flag.id)) is not None
