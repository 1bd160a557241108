"""Bulk checks: documents → programs, policy applied, audited per person, downloadable."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.agency_support import agency_headers
from tests.factories import create_batch, create_enrollment, create_household, create_person


class TestVerificaciones:
    async def test_csv_in_result_out(self, api, session) -> None:
        household = await create_household(session)
        person = await create_person(session, household=household)
        for program in ("JUNTOS", "CONTIGO"):
            batch = await create_batch(session, source=program, period="2026-10")
            await create_enrollment(session, person=person, batch=batch)
        headers = await agency_headers(session, "person:read", purpose="verificacion")
        csv_in = f"dni\n{person.doc_number}\n99999998\nabc\n".encode()
        response = await api.post(
            "/api/v1/verificaciones",
            headers=headers,
            files={"archivo": ("docs.csv", csv_in, "text/csv")},
            data={"periodo": "2026-10"},
        )
        assert response.status_code == 201, response.text
        summary = response.json()
        assert (summary["total"], summary["encontrados"], summary["invalidos"]) == (3, 1, 1)
        result = await api.get(summary["resultado_url"], headers=headers)
        lines = result.content.decode("utf-8-sig").splitlines()
        assert lines[1] == f"{person.doc_number},si,si,JUNTOS,2026-10"  # no CONTIGO: disability
        assert lines[2] == "99999998,si,no,,2026-10"
        rows = (
            await (await session.connection()).execute(
                text("SELECT fields FROM audit_event WHERE action = 'verificacion.read'")
            )
        ).all()
        assert len(rows) == 1

    async def test_needs_person_read_and_own_result(self, api, session) -> None:
        headers = await agency_headers(session, "coverage:read", purpose="verificacion")
        response = await api.post(
            "/api/v1/verificaciones",
            headers=headers,
            files={"archivo": ("docs.csv", b"dni\n41234567\n", "text/csv")},
        )
        assert response.status_code == 403
        owner = await agency_headers(session, "person:read", purpose="verificacion")
        created = await api.post(
            "/api/v1/verificaciones",
            headers=owner,
            files={"archivo": ("docs.csv", b"dni\n41234567\n", "text/csv")},
        )
        other = await agency_headers(session, "person:read", purpose="verificacion")
        assert (await api.get(created.json()["resultado_url"], headers=other)).status_code == 404

    async def test_control_characters_in_a_document_are_an_invalid_row(self, api, session) -> None:
        # found by Schemathesis: a NUL byte echoed into the stored result was a 500
        headers = await agency_headers(session, "person:read", purpose="verificacion")
        response = await api.post(
            "/api/v1/verificaciones",
            headers=headers,
            files={"archivo": ("docs.csv", b"dni\n\x00\x08ab\n", "text/csv")},
        )
        assert response.status_code == 201, response.text
        assert (response.json()["total"], response.json()["invalidos"]) == (1, 1)
        result = await api.get(response.json()["resultado_url"], headers=headers)
        assert result.content.decode("utf-8-sig").splitlines()[1] == "ab,no,,,"

    async def test_charged_to_the_daily_record_quota(self, api, session) -> None:
        household = await create_household(session)
        people = [await create_person(session, household=household) for _ in range(2)]
        headers = await agency_headers(
            session, "person:read", purpose="verificacion", daily_quota=4, records_per_minute=1
        )

        async def check(documents: list[str]):
            body = ("dni\n" + "\n".join(documents) + "\n").encode()
            return await api.post(
                "/api/v1/verificaciones",
                headers=headers,
                files={"archivo": ("docs.csv", body, "text/csv")},
            )

        found = [p.doc_number for p in people if p.doc_number is not None]
        # Four reserved, two found: two given back (the per-minute rate does not apply).
        first = await check([*found, "99999990", "99999991"])
        assert first.status_code == 201, first.text
        # Two left: a file of three documents no longer fits, one of two does.
        refused = await check([*found, "99999992"])
        assert refused.status_code == 429
        assert "per day" in refused.json()["detail"]
        assert (await check(found)).status_code == 201
        assert (await check(found[:1])).status_code == 429
