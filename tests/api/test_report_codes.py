"""Tracking codes go only to whoever filed the report (issue 11.20).

A public report's "same reporter" is a network address, so a folded report handed the earlier
reporter's code to anyone behind the same address (a cybercafé, a CGNAT) who sent the same
report; and a volunteer's list showed every tracking code of the district.
"""

from __future__ import annotations

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.report import repository as report_repository
from rnu.report import service as report_service
from rnu.report.service import ReportTarget
from rnu.staff.models import VolunteerReport
from rnu.staff.volunteer import list_reports
from tests.api.public_support import bind, make_client
from tests.factories import STAFF_PASSWORD, create_staff_user
from tests.rnu.staff.support import staff_client
from tests.web.test_analista_pages import form_login

__all__ = ["staff_client"]

REPORT = {"motivo": "otro", "ubigeo": "080101", "descripcion": "Vive en otra ciudad."}


async def test_a_folded_public_report_does_not_hand_back_the_earlier_code(
    app_state: AppState, session: AsyncSession
) -> None:
    async with await make_client(bind(app_state, session)) as client:
        first = await client.post("/api/v1/reportes", json=REPORT)  # one person at the café
        second = await client.post("/api/v1/reportes", json=REPORT)  # the next, same address
    assert first.status_code == 201
    code = first.json()["codigo"]
    assert code
    assert second.status_code == 200
    assert second.json()["agrupado"] is True
    assert second.json()["codigo"] is None
    assert code not in second.text
    assert "primera vez" in second.json()["mensaje"]


async def test_the_web_form_does_not_show_the_earlier_code_either(
    app_state: AppState, session: AsyncSession
) -> None:
    form = {"motivo": "otro", "ubigeo": "080101", "descripcion": "Vive en otra ciudad."}
    async with await make_client(bind(app_state, session)) as client:
        first = await client.post("/api/v1/reportes", json=REPORT)
        page = await client.post("/reportar", data=form, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert first.json()["codigo"] not in page.text
    assert "primera vez" in page.text


async def test_volunteers_see_only_their_own_tracking_codes(
    session: AsyncSession, staff_client: httpx.AsyncClient
) -> None:
    me = await create_staff_user(session, role="volunteer", districts=["150101"])
    public = await report_service.create_report(
        session,
        target=ReportTarget(program_code="JUNTOS", ubigeo="150101"),
        reason_code="otro",
        text="Un vecino lo reportó.",
        reporter_hmac="someone",
    )
    mine = await report_service.create_report(
        session,
        target=ReportTarget(program_code="JUNTOS", ubigeo="150101"),
        reason_code="otro",
        text="Lo vi yo.",
        reporter_hmac="me",
        reporter_role="volunteer",
    )
    found = await report_repository.get_by_code(session, tracking_code=mine.tracking_code or "")
    assert found is not None
    assert found.id is not None
    session.add(VolunteerReport(report_id=found.id, user_id=me.id))
    await session.flush()
    lines = await list_reports(session, user=me)
    assert {line.tracking_code for line in lines} == {mine.tracking_code, None}
    await form_login(staff_client, "voluntarios", me.username, STAFF_PASSWORD)
    listing = await staff_client.get("/voluntarios/reportes")
    assert listing.status_code == 200
    assert public.tracking_code is not None
    assert public.tracking_code not in listing.text
    assert mine.tracking_code is not None
    assert mine.tracking_code in listing.text
