"""Issue 11 item 6 through GraphQL: a CE holder read is audited (it was not: the audit subject
came from the DNI shown, and a CE is never shown as a DNI), on the HMAC of the CE number."""

from __future__ import annotations

from sqlalchemy import text

from rnu.hashing import dni_hmac
from tests.api.agency_support import SECRET, agency_headers
from tests.factories import create_batch, create_enrollment, create_household, create_person

QUERY = """
query($doc: String!) {
  person(document: $doc, documentType: CE) { nombres programs }
}
"""


async def test_a_ce_holder_read_through_graphql_is_audited(api, session) -> None:
    household = await create_household(session)
    person = await create_person(
        session, household=household, doc_type="CE", doc_number="CE0012345"
    )
    batch = await create_batch(session, source="JUNTOS", period="2026-10")
    await create_enrollment(session, person=person, batch=batch)
    headers = await agency_headers(session, "person:read")
    response = await api.post(
        "/graphql", json={"query": QUERY, "variables": {"doc": "CE0012345"}}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["person"]["programs"] == ["JUNTOS"]
    rows = (
        await (await session.connection()).execute(
            text("SELECT subject_hmac, fields FROM audit_event WHERE action = 'graphql.read'")
        )
    ).all()
    assert [r.subject_hmac for r in rows] == [dni_hmac(SECRET.encode(), "CE0012345")]
    assert "programs" in rows[0].fields
