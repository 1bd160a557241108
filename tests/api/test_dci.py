"""DCI sync endpoints: envelope validation, reason codes, scopes, audit, lenient parsing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from api.dci import records
from tests.api import dci_support
from tests.api.agency_support import agency_headers
from tests.factories import create_batch, create_enrollment, create_household, create_person


def envelope(action: str, message: dict[str, Any], **header: Any) -> dict[str, Any]:
    return dci_support.envelope(
        action, message, **{"sender_id": "minsa.gob.pe", "receiver_id": "rnu", **header}
    )


def search(criteria: dict[str, Any], txn: str = "txn-1", ref: str = "ref-1") -> dict[str, Any]:
    return envelope(
        "search",
        {
            "transaction_id": txn,
            "search_request": [
                {
                    "reference_id": ref,
                    "timestamp": "2026-11-27T10:00:00Z",
                    "search_criteria": criteria,
                }
            ],
        },
    )


async def seed(session: AsyncSession, *, people: int = 1, cse: str = "P", ubigeo: str = "080101"):
    household = await create_household(session, cse=cse, ubigeo=ubigeo)
    batch = await create_batch(session, source="JUNTOS", period="2026-10")
    out = []
    for _ in range(people):
        person = await create_person(session, household=household, ubigeo=ubigeo)
        await create_enrollment(session, person=person, batch=batch)
        out.append(person)
    return out


class TestSearch:
    async def test_idtype_value_identity_scope_has_no_poverty_score(self, api, session) -> None:
        [person] = await seed(session)
        headers = await agency_headers(session, "person:read")
        query = {"query_type": "idtype-value", "query": {"type": "DNI", "value": person.doc_number}}
        body = (await api.post("/registry/sync/search", json=search(query), headers=headers)).json()
        [item] = body["message"]["search_response"]
        assert item["status"] == "succ"
        [record] = item["data"]["reg_records"]
        assert record["identifier"] == [
            {"identifier_type": "DNI", "identifier_value": person.doc_number}
        ]
        assert record["programmes"] == ["JUNTOS"]
        assert "poverty_score" not in record
        assert body["header"]["status"] == "succ"
        assert body["header"]["receiver_id"] == "minsa.gob.pe"
        assert body["message"]["transaction_id"] == "txn-1"

    async def test_sensitive_scope_gets_cse_sisfoh(self, api, session) -> None:
        [person] = await seed(session, cse="PE")
        headers = await agency_headers(session, "person:read", "person:read:sensitive")
        query = {
            "query_type": "idtype-value",
            "query": {"identifier_type": "DNI", "identifier_value": person.doc_number},
        }
        body = (await api.post("/registry/sync/search", json=search(query), headers=headers)).json()
        record = body["message"]["search_response"][0]["data"]["reg_records"][0]
        assert record["poverty_score"]["poverty_score_type"] == "CSE-SISFOH"
        assert record["poverty_score"]["value"] == "PE"
        assert record["assistance_unit"]["group_type"] == "Household"

    async def test_expression_over_poverty_score_and_place(self, api, session) -> None:
        people = await seed(session, people=3, cse="PE", ubigeo="080201")
        await seed(session, people=2, cse="NP", ubigeo="080201")
        headers = await agency_headers(session, "person:read")
        query = {
            "query_type": "expression",
            "query": {
                "type": "ns:org:QueryType:expression",
                "value": {
                    "expression": [
                        {
                            "attribute_name": "poverty_score_type",
                            "operator": "eq",
                            "attribute_value": "CSE-SISFOH",
                        },
                        {
                            "attribute_name": "poverty_score",
                            "operator": "in",
                            "attribute_value": ["PE"],
                        },
                        {
                            "attribute_name": "location",
                            "operator": "eq",
                            "attribute_value": "080201",
                        },
                    ]
                },
            },
            "pagination": {"page_size": 2, "page_number": 1},
        }
        body = (await api.post("/registry/sync/search", json=search(query), headers=headers)).json()
        item = body["message"]["search_response"][0]
        assert item["status"] == "succ", item
        assert item["pagination"]["total_count"] == 3
        assert len(item["data"]["reg_records"]) == 2
        found = {r["identifier"][0]["identifier_value"] for r in item["data"]["reg_records"]}
        assert found <= {p.doc_number for p in people}

    async def test_too_many_records(self, api, session, monkeypatch: pytest.MonkeyPatch) -> None:
        await seed(session, people=3, ubigeo="080301")
        monkeypatch.setattr(records, "MAX_MATCHES", 2)
        headers = await agency_headers(session, "person:read")
        query = {
            "query_type": "expression",
            "query": [{"attribute_name": "location", "operator": "eq", "attribute_value": "0803"}],
        }
        body = (await api.post("/registry/sync/search", json=search(query), headers=headers)).json()
        item = body["message"]["search_response"][0]
        assert item["status"] == "rjct"
        assert item["status_reason_code"] == "rjct.search.too_many_records_found"

    async def test_item_level_reason_codes(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        bad = search({"query_type": "sql", "query": "SELECT 1"})
        item = (await api.post("/registry/sync/search", json=bad, headers=headers)).json()
        assert item["message"]["search_response"][0]["status_reason_code"] == (
            "rjct.search_criteria.invalid"
        )
        no_ref = search(
            {"query_type": "idtype-value", "query": {"type": "DNI", "value": "1"}}, ref=""
        )
        body = (await api.post("/registry/sync/search", json=no_ref, headers=headers)).json()
        assert body["message"]["search_response"][0]["status_reason_code"] == (
            "rjct.reference_id.invalid"
        )

    async def test_search_request_as_one_object_is_accepted(self, api, session) -> None:
        [person] = await seed(session)
        headers = await agency_headers(session, "person:read")
        body = search(
            {"query_type": "idtype-value", "query": {"type": "DNI", "value": person.doc_number}}
        )
        body["message"]["search_request"] = body["message"]["search_request"][0]
        reply = (await api.post("/registry/sync/search", json=body, headers=headers)).json()
        assert reply["message"]["search_response"][0]["status"] == "succ"

    async def test_reads_are_audited(self, api, session) -> None:
        [person] = await seed(session)
        headers = await agency_headers(session, "person:read", purpose="fiscalizacion")
        query = {"query_type": "idtype-value", "query": {"type": "DNI", "value": person.doc_number}}
        await api.post("/registry/sync/search", json=search(query), headers=headers)
        from sqlalchemy import text

        rows = (
            await (await session.connection()).execute(
                text("SELECT purpose, fields FROM audit_event WHERE action = 'dci.read'")
            )
        ).all()
        assert [r.purpose for r in rows] == ["fiscalizacion"]
        assert "dni" in rows[0].fields


class TestEnvelope:
    @pytest.mark.parametrize(
        ("header", "code"),
        [
            ({"action": "subscribe"}, "rjct.action.not_supported"),
            ({"version": "2.0.0"}, "rjct.version.invalid"),
            ({"message_ts": "ayer"}, "rjct.message_ts.invalid"),
        ],
    )
    async def test_header_rejections(self, api, session, header, code) -> None:
        headers = await agency_headers(session, "person:read")
        body = search({"query_type": "idtype-value", "query": {"type": "DNI", "value": "1"}})
        body["header"].update(header)
        response = await api.post("/registry/sync/search", json=body, headers=headers)
        assert response.status_code == 400
        data = response.json()
        assert data["header"]["status"] == "rjct"
        assert data["header"]["status_reason_code"] == code

    async def test_missing_header_is_a_bad_request_in_the_specs_shape(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        response = await api.post("/registry/sync/search", json={"message": {}}, headers=headers)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "err.request.bad"

    async def test_needs_person_read(self, api, session) -> None:
        headers = await agency_headers(session, "coverage:read")
        body = search({"query_type": "idtype-value", "query": {"type": "DNI", "value": "1"}})
        response = await api.post("/registry/sync/search", json=body, headers=headers)
        assert response.status_code == 403


class TestEnrolledAndStatus:
    async def test_enrolled_and_txn_status(self, api, session) -> None:
        [person] = await seed(session)
        headers = await agency_headers(session, "person:read")
        body = envelope(
            "enrolled",
            {
                "transaction_id": "txn-enr",
                "enrolled_request": [
                    {
                        "reference_id": "e1",
                        "timestamp": "2026-11-27T10:00:00Z",
                        "enrolled_criteria": {
                            "query": {"type": "DNI", "value": person.doc_number},
                            "period": "2026-10",
                        },
                    }
                ],
            },
        )
        reply = (await api.post("/registry/sync/enrolled", json=body, headers=headers)).json()
        data = reply["message"]["enrolled_response"][0]["data"]
        assert data["is_enrolled"] is True
        assert data["enrollments"] == [
            {"programme_code": "JUNTOS", "period": "2026-10", "status": "active"}
        ]
        status = envelope(
            "txn-status",
            {
                "transaction_id": "txn-st",
                "txn_status_request": {  # the spec's other spelling
                    "reference_id": "s1",
                    "txn_type": "enrolled",
                    "attribute_type": "transaction_id",
                    "attribute_value": "txn-enr",
                },
            },
        )
        reply = (await api.post("/registry/sync/txn/status", json=status, headers=headers)).json()
        txn = reply["message"]["txnstatus_response"]["txn_status"]
        assert txn["transaction_id"] == "txn-enr"
        assert txn["status"] == "succ"

    async def test_updates_need_the_programs_write_scope(self, api, session) -> None:
        headers = await agency_headers(session, "enrollment:write:JUNTOS")
        body = envelope(
            "enrollment-updates",
            {
                "transaction_id": "txn-up",
                "enrollment_updates": [
                    {
                        "reference_id": "u1",
                        "timestamp": "2026-11-27T10:00:00Z",
                        "programme_code": "PENSION65",
                        "period": "2026-10",
                        "records": [{"identifier_type": "DNI", "identifier_value": "40000001"}],
                    }
                ],
            },
        )
        response = await api.post("/registry/sync/enrollment/updates", json=body, headers=headers)
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "err.request.forbidden"


async def test_records_per_call_are_bounded_across_items(
    api, session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 item 4 (DCI items): the call's record bound holds across its items."""
    from api.auth import agency as agency_auth

    monkeypatch.setattr(agency_auth, "MAX_RECORDS_PER_CALL", 1)
    first, second = await seed(session, people=2)
    headers = await agency_headers(session, "person:read")
    body = search(
        {"query_type": "idtype-value", "query": {"type": "DNI", "value": first.doc_number}}
    )
    body["message"]["search_request"].append(
        {
            "reference_id": "ref-2",
            "timestamp": "2026-11-27T10:00:00Z",
            "search_criteria": {
                "query_type": "idtype-value",
                "query": {"type": "DNI", "value": second.doc_number},
            },
        }
    )
    reply = (await api.post("/registry/sync/search", json=body, headers=headers)).json()
    one, two = reply["message"]["search_response"]
    assert one["status"] == "succ"
    assert two["status_reason_code"] == "rjct.search.too_many_records_found"


async def test_a_call_reserves_only_what_its_items_can_return(api, session) -> None:
    """A one-DNI search by a key with a small record quota is answered (it reserves 1, not
    the per-call maximum), and a call that cannot fit the quota is a spec-shaped 429."""
    [person] = await seed(session)
    headers = await agency_headers(session, "person:read", daily_quota=3)
    query = {"query_type": "idtype-value", "query": {"type": "DNI", "value": person.doc_number}}
    reply = await api.post("/registry/sync/search", json=search(query), headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["message"]["search_response"][0]["status"] == "succ"
    wide = {
        "query_type": "expression",
        "query": [{"attribute_name": "location", "operator": "eq", "attribute_value": "08"}],
        "pagination": {"page_size": 50},
    }
    reply = await api.post("/registry/sync/search", json=search(wide), headers=headers)
    assert reply.status_code == 429
    assert reply.json()["errors"][0]["code"] == "err.request.too_many_requests"
