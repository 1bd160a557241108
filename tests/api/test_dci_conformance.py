"""DCI conformance: each endpoint driven with the spec's own requests, every answer validated
against the spec's schemas (tests/api/dci_spec/, patched only where the spec's YAML is
unusable as written; see dci_conformance_support.py and docs/dci.md).

The spec's sample requests are sent exactly as published first (they are not valid against
their own schemas: an empty ``transaction_id``, ``"1"`` for an integer, ``headers`` for
``header``), and RNU's refusal must itself be a conforming answer; then with the one field an
answer needs filled in.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.agency import events
from rnu.agency.models import AgencyUpload
from rnu.agency.service import sign
from rnu.config import Settings
from rnu.db import session_scope
from tests.api.agency_support import agency_headers, run_jobs
from tests.api.dci_conformance_support import (
    answer_conforms,
    assert_conforms,
    component,
    envelope_schema,
    example,
    request_conforms,
)
from tests.api.dci_support import OWN_PROGRAMME, Hook, envelope
from tests.api.public_support import bind, make_client
from tests.factories import (
    create_api_client,
    create_batch,
    create_enrollment,
    create_household,
    create_person,
)

JSON = dict[str, Any]
HOOK = "https://127.0.0.1:9/registry/notify"  # never called: these tests only subscribe


@pytest.fixture
def agency_state(app_state: AppState, session: AsyncSession) -> AppState:
    """Subscriptions here name a loopback receiver, which RNU refuses unless allowed."""
    return bind(app_state, session, webhook_allow_private=True)


async def seed(session: AsyncSession, *, ubigeo: str = "080101", cse: str = "P") -> str:
    household = await create_household(session, cse=cse, ubigeo=ubigeo)
    batch = await create_batch(session, source="JUNTOS", period="2026-10")
    person = await create_person(session, household=household, ubigeo=ubigeo)
    await create_enrollment(session, person=person, batch=batch)
    assert person.doc_number
    return person.doc_number


def search_body(criteria: JSON, **item: Any) -> JSON:
    return envelope(
        "search",
        {
            "transaction_id": "txn-conf",
            "search_request": [
                {
                    "reference_id": "ref-1",
                    "timestamp": "2026-11-27T10:00:00-05:00",
                    "search_criteria": criteria,
                    **item,
                }
            ],
        },
    )


async def post(api: httpx.AsyncClient, path: str, body: JSON, headers: dict[str, str]) -> JSON:
    response = await api.post(path, json=body, headers=headers)
    assert response.status_code in (200, 400), response.text
    data: JSON = response.json()
    return data


class TestSearch:
    async def test_the_specs_sample_as_published_is_refused_conformingly(self, api, session):
        sample = example("ibr_processflow4req.json")
        problems = request_conforms(sample, "SearchRequest", "search")
        assert any("'header' is a required property" in p for p in problems)
        headers = await agency_headers(session, "person:read")
        response = await api.post("/registry/sync/search", json=sample, headers=headers)
        assert response.status_code == 400
        body = response.json()
        answer_conforms(body, "SearchResponse", "on-search")
        assert body["header"]["status"] == "rjct"
        assert body["header"]["status_reason_code"] == "rjct.action.invalid"

    async def test_the_specs_sample_completed(self, api, session):
        dni = await seed(session)
        sample = example("ibr_processflow4req.json")
        sample["message"]["transaction_id"] = "txn-sample"
        item = sample["message"]["search_request"][0]
        item["reference_id"] = "ref-sample"
        item["search_criteria"]["query"]["value"] = dni  # UIN: read as a DNI
        headers = await agency_headers(session, "person:read")
        body = await post(api, "/registry/sync/search", sample, headers)
        answer_conforms(body, "SearchResponse", "on-search")
        [answer] = body["message"]["search_response"]
        assert answer["status"] == "rjct"
        assert answer["status_reason_code"] == "rjct.sort.invalid"  # refused, not ignored

        del item["search_criteria"]["sort"]
        body = await post(api, "/registry/sync/search", sample, headers)
        answer_conforms(body, "SearchResponse", "on-search")
        [answer] = body["message"]["search_response"]
        assert answer["status"] == "succ", answer
        assert answer["locale"] == "spa"
        [record] = answer["data"]["reg_records"]
        assert record["identifier"] == [{"identifier_type": "DNI", "identifier_value": dni}]
        assert answer["pagination"] == {"page_size": 10, "page_number": 1, "total_count": 1}

    @pytest.mark.parametrize("record_type", ["Person", "Group", "Member", "Beneficiary"])
    async def test_record_types(self, api, session, record_type):
        dni = await seed(session)
        headers = await agency_headers(session, "person:read")
        criteria = {
            "query_type": "idtype-value",
            "query": {"type": "DNI", "value": dni},
            "reg_record_type": record_type,
        }
        body = await post(api, "/registry/sync/search", search_body(criteria), headers)
        answer_conforms(body, "SearchResponse", "on-search")
        [answer] = body["message"]["search_response"]
        assert answer["status"] == "succ", answer
        assert answer["data"]["reg_record_type"] == record_type
        [record] = answer["data"]["reg_records"]
        expected_key = {
            "Person": "identifier",
            "Group": "member",
            "Member": "demographic_info",
            "Beneficiary": "programme_identifier",
        }[record_type]
        assert expected_key in record
        if record_type == "Beneficiary":
            assert record["programme_identifier"]["programme_identifier"] == "JUNTOS"
            assert record["enrollment_status"]

    async def test_the_specs_expression_example_is_refused_with_its_code(self, api, session):
        headers = await agency_headers(session, "person:read")
        criteria = {
            "query_type": "expression",
            "query": {
                "type": "ns:org:QueryType:NoSql",
                "value": {
                    "expression": {
                        "collection": "HouseHold",
                        "query": {
                            "$and": [
                                {"poverty_score": {"$lt": 5}},
                                {"location": {"$eq": "central_region"}},
                                {"household_size": {"$lt": 5}},
                            ]
                        },
                    }
                },
            },
        }
        assert not request_conforms(search_body(criteria), "SearchRequest", "search")
        body = await post(api, "/registry/sync/search", search_body(criteria), headers)
        answer_conforms(body, "SearchResponse", "on-search")
        [answer] = body["message"]["search_response"]
        assert answer["status_reason_code"] == "rjct.search_criteria.invalid"

    @pytest.mark.parametrize(
        "query",
        [
            {"collection": "Person", "query": {"$and": [{"location": {"$eq": "080601"}}]}},
            [{"attribute_name": "location", "operator": "eq", "attribute_value": "080601"}],
        ],
    )
    async def test_expression_forms_answered(self, api, session, query):
        dni = await seed(session, ubigeo="080601")
        headers = await agency_headers(session, "person:read")
        body = await post(
            api,
            "/registry/sync/search",
            search_body({"query_type": "expression", "query": query}),
            headers,
        )
        answer_conforms(body, "SearchResponse", "on-search")
        [answer] = body["message"]["search_response"]
        assert answer["status"] == "succ", answer
        found = [r["identifier"][0]["identifier_value"] for r in answer["data"]["reg_records"]]
        assert dni in found

    async def test_predicate_with_or_is_refused_and_with_and_answered(self, api, session):
        await seed(session, ubigeo="080701")
        headers = await agency_headers(session, "person:read")
        predicate = [
            {
                "seq_num": 1,
                "expression1": {
                    "attribute_name": "location",
                    "operator": "eq",
                    "attribute_value": "080701",
                },
                "condition": "and",
                # "in" with a list is what an agency means, but the spec's attribute_value
                # has no array type (docs/dci.md): the conforming request says "eq"
                "expression2": {
                    "attribute_name": "poverty_score",
                    "operator": "eq",
                    "attribute_value": "P",
                },
            }
        ]
        criteria = {"query_type": "predicate", "query": predicate}
        assert not request_conforms(search_body(criteria), "SearchRequest", "search")
        body = await post(api, "/registry/sync/search", search_body(criteria), headers)
        answer_conforms(body, "SearchResponse", "on-search")
        assert body["message"]["search_response"][0]["status"] == "succ"
        predicate[0]["condition"] = "or"
        body = await post(api, "/registry/sync/search", search_body(criteria), headers)
        answer_conforms(body, "SearchResponse", "on-search")
        assert body["message"]["search_response"][0]["status_reason_code"] == (
            "rjct.search_criteria.invalid"
        )

    @pytest.mark.parametrize(
        ("item", "code"),
        [
            ({"timestamp": "yesterday"}, "rjct.timestamp.invalid"),
            ({"timestamp": "2026-11-27T10:00:00"}, "rjct.timestamp.invalid"),  # no zone
            ({"locale": "es"}, "rjct.search_criteria.invalid"),
        ],
    )
    async def test_item_timestamp_and_locale_are_checked(self, api, session, item, code):
        headers = await agency_headers(session, "person:read")
        criteria = {"query_type": "idtype-value", "query": {"type": "DNI", "value": "40000001"}}
        body = await post(api, "/registry/sync/search", search_body(criteria, **item), headers)
        answer_conforms(body, "SearchResponse", "on-search")
        assert body["message"]["search_response"][0]["status_reason_code"] == code

    @pytest.mark.parametrize(
        "pagination", [{"page_number": 1}, {"page_size": 0}, {"page_size": "diez"}]
    )
    async def test_pagination_is_checked(self, api, session, pagination):
        headers = await agency_headers(session, "person:read")
        criteria = {
            "query_type": "expression",
            "query": [{"attribute_name": "location", "operator": "eq", "attribute_value": "08"}],
            "pagination": pagination,
        }
        body = await post(api, "/registry/sync/search", search_body(criteria), headers)
        answer_conforms(body, "SearchResponse", "on-search")
        assert body["message"]["search_response"][0]["status_reason_code"] == (
            "rjct.pagination.invalid"
        )


class TestErrors:
    async def test_missing_content_type_is_415_in_the_specs_shape(self, api, session):
        headers = await agency_headers(session, "person:read")
        response = await api.post("/registry/sync/search", content=b"{}", headers=headers)
        assert response.status_code == 415
        assert_conforms(component("HttpErrorResponse"), response.json())
        [error] = response.json()["errors"]
        assert_conforms(component("Error"), error)

    @pytest.mark.parametrize("body", [b"not json", b"[]", b'{"message": {}}'])
    async def test_not_an_envelope_is_400_not_422(self, api, session, body):
        headers = {
            **await agency_headers(session, "person:read"),
            "Content-Type": "application/json",
        }
        response = await api.post("/registry/sync/search", content=body, headers=headers)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert_conforms(component("Error"), error)
        assert error["code"] == "err.request.bad"

    async def test_no_key_and_no_scope(self, api, session):
        criteria = {"query_type": "idtype-value", "query": {"type": "DNI", "value": "40000001"}}
        response = await api.post("/registry/sync/search", json=search_body(criteria))
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "err.request.unauthorized"
        headers = await agency_headers(session, "coverage:read")
        response = await api.post(
            "/registry/sync/search", json=search_body(criteria), headers=headers
        )
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "err.request.forbidden"


class TestEnrolled:
    async def test_the_specs_sample_as_published(self, api, session):
        headers = await agency_headers(session, "person:read")
        sample = example("ibr_processflow2req.json")
        response = await api.post("/registry/enrolled", json=sample, headers=headers)
        assert response.status_code == 400
        answer_conforms(response.json(), "EnrolledResponse", "on-enrolled")

    @pytest.mark.parametrize("path", ["/registry/enrolled", "/registry/sync/enrolled"])
    async def test_enrolled_status_yes_and_no(self, api, session, path):
        dni = await seed(session)
        headers = await agency_headers(session, "person:read")
        sample = example("ibr_processflow2req.json")
        sample["message"]["transaction_id"] = "txn-enrolled"
        sample["message"]["enrolled_criteria"]["query"]["attribute_value"] = dni
        # the sample's own header defects ("meta": "" for an object) are all that is left
        problems = request_conforms(sample, "EnrolledRequest", "search")
        assert all(p.startswith("header/") for p in problems), problems
        body = await post(api, path, sample, headers)
        answer_conforms(body, "EnrolledResponse", "on-enrolled")
        [answer] = body["message"]["enrolled_response"]
        assert answer["enrolled_status"] == "yes"
        [beneficiary] = answer["data"]["reg_records"]
        assert beneficiary["programme_identifier"]["programme_identifier"] == "JUNTOS"
        sample["message"]["enrolled_criteria"]["query"]["attribute_value"] = "45678901"
        body = await post(api, path, sample, headers)
        answer_conforms(body, "EnrolledResponse", "on-enrolled")
        assert body["message"]["enrolled_response"][0]["enrolled_status"] == "no"

    async def test_hidden_programme_is_not_a_yes(self, api, session):
        """Contigo discloses a disability: without the sensitive scope, enrolled is 'no'."""
        household = await create_household(session)
        person = await create_person(session, household=household)
        batch = await create_batch(session, source="CONTIGO", period="2026-10")
        await create_enrollment(session, person=person, batch=batch)
        headers = await agency_headers(session, "person:read")
        body = envelope(
            "search",
            {
                "transaction_id": "txn-contigo",
                "enrolled_criteria": {"query": {"type": "DNI", "value": person.doc_number}},
            },
        )
        reply = await post(api, "/registry/enrolled", body, headers)
        answer_conforms(reply, "EnrolledResponse", "on-enrolled")
        assert reply["message"]["enrolled_response"][0]["enrolled_status"] == "no"


class TestEnrollmentUpdates:
    async def test_the_specs_sample(self, api, session):
        headers = await agency_headers(session, "enrollment:write:JUNTOS")
        sample = example("ibr_processflow1req.json")
        response = await api.post("/registry/receipts", json=sample, headers=headers)
        assert response.status_code == 400  # transaction_id ""
        answer_conforms(response.json(), "EnrollmentUpdatesResponse", "on-notify")
        sample["message"]["transaction_id"] = "txn-receipt"
        body = await post(api, "/registry/receipts", sample, headers)
        answer_conforms(body, "EnrollmentUpdatesResponse", "on-notify")
        [answer] = body["message"]["enrolled_response"]
        assert answer["status"] == "rjct"  # DCI001 is not a programme of RNU's
        assert "DCI001" in answer["status_reason_message"]

    async def test_notify_with_enrolled_updates_is_queued(self, api, session):
        headers = await agency_headers(session, "enrollment:write:JUNTOS")
        beneficiary = copy.deepcopy(
            example("ibr_processflow1req.json")["message"]["receipt_information"]["beneficiaries"][
                0
            ]
        )
        beneficiary["member"]["programme_identifier"]["programme"]["programme_identifier"] = (
            "JUNTOS"
        )
        person = beneficiary["member"]["demographic_info"]["person"]
        person["identifier"] = [{"identifier_type": "DNI", "identifier_value": "40000001"}]
        body = envelope(
            "notify",
            {
                "transaction_id": "txn-updates",
                "enrolled_updates": {"receipt_type": "REGISTER", "beneficiaries": [beneficiary]},
            },
        )
        assert not request_conforms(body, "EnrollmentUpdatesRequest", "notify")
        reply = await post(api, "/registry/sync/enrollment/updates", body, headers)
        answer_conforms(reply, "EnrollmentUpdatesResponse", "on-notify")
        [answer] = reply["message"]["enrolled_response"]
        assert answer["status"] == "pdng", answer
        assert answer["reference_id"] == "txn-updates:JUNTOS:2024-05"
        upload = await session.get(AgencyUpload, answer["data"]["upload_id"])
        assert upload is not None
        text = await asyncio.to_thread(Path(upload.stored_path).read_text, encoding="utf-8")
        stored = json.loads(text)
        assert stored == {
            "identifier_type": "DNI",
            "identifier_value": "40000001",
            "given_name": "Test Test2",
            "surname": "Test3",
            "second_surname": None,
            "birth_date": "1980-04-12",
            "sex": "F",
            "ubigeo": None,
            "assistance_unit": "1",
        }

        status = envelope(
            "txn-status",
            {
                "transaction_id": "txn-st-updates",
                "txnstatus_request": {
                    "reference_id": "s1",
                    "txn_type": "receipt",
                    "attribute_type": "transaction_id",
                    "attribute_value": "txn-updates",
                },
            },
        )
        reply = await post(api, "/registry/sync/txn/status", status, headers)
        answer_conforms(reply, "TxnStatusResponse", "txn-on-status")
        txn_status = reply["message"]["txnstatus_response"]["txn_status"]
        assert txn_status["search_response"][0]["status"] == "pdng"


class TestTxnStatus:
    @pytest.mark.parametrize("attribute", ["transaction_id", "correlation_id", "reference_id_list"])
    async def test_lookups(self, api, session, attribute):
        dni = await seed(session)
        headers = await agency_headers(session, "person:read")
        criteria = {"query_type": "idtype-value", "query": {"type": "DNI", "value": dni}}
        searched = await post(api, "/registry/sync/search", search_body(criteria), headers)
        value: Any = {
            "transaction_id": "txn-conf",
            "correlation_id": searched["message"]["correlation_id"],
            "reference_id_list": ["ref-1"],
        }[attribute]
        body = envelope(
            "txn-status",
            {
                "transaction_id": "txn-st",
                "txnstatus_request": {
                    "reference_id": "st-1",
                    "txn_type": "search",
                    "attribute_type": attribute,
                    "attribute_value": value,
                },
            },
        )
        assert not request_conforms(body, "TxnStatusRequest", "txn-status")
        reply = await post(api, "/registry/sync/txn/status", body, headers)
        answer_conforms(reply, "TxnStatusResponse", "txn-on-status")
        txn_status = reply["message"]["txnstatus_response"]["txn_status"]
        assert txn_status["transaction_id"] == "txn-conf"
        [item] = txn_status["search_response"]
        assert (item["reference_id"], item["status"]) == ("ref-1", "succ")
        assert "data" not in item  # statuses only: the records are not kept

    async def test_unknown_transaction(self, api, session):
        headers = await agency_headers(session, "person:read")
        body = envelope(
            "txn-status",
            {
                "transaction_id": "txn-st-x",
                "txnstatus_request": {
                    "reference_id": "st-x",
                    "txn_type": "search",
                    "attribute_type": "transaction_id",
                    "attribute_value": "nunca",
                },
            },
        )
        reply = await post(api, "/registry/sync/txn/status", body, headers)
        answer_conforms(reply, "TxnStatusResponse", "txn-on-status")
        [item] = reply["message"]["txnstatus_response"]["txn_status"]["search_response"]
        assert item["status_reason_code"] == "rjct.reference_id.invalid"


def subscribe_body(criteria: JSON, **header: Any) -> JSON:
    return envelope(
        "subscribe",
        {
            "transaction_id": "txn-sub",
            "subscribe_request": [
                {
                    "reference_id": "sub-1",
                    "timestamp": "2026-11-27T10:00:00Z",
                    "subscribe_criteria": {"notify_url": HOOK, **criteria},
                }
            ],
        },
        **header,
    )


def acknowledged(body: JSON, message: str, action: str, ack_status: str = "NACK") -> None:
    """An asynchronous call's answer: the spec's ACK (NACK: no sender_uri, no callback will
    follow), and RNU's answer inside it."""
    assert_conforms(component("Response"), body)
    assert body["message"]["ack_status"] == ack_status
    assert_conforms(
        envelope_schema(message, action=action, header="MsgCallbackHeader_V1.0.0"), body
    )


class TestSubscriptions:
    async def test_spdci_death_with_a_programme_filter(self, api, session):
        headers = await agency_headers(session, *OWN_PROGRAMME)
        criteria = {
            "reg_event_type": "Death",
            "notify_record_type": "Person",
            "filter_type": "expression",
            "filter": [
                {"attribute_name": "programme", "operator": "eq", "attribute_value": "PENSION65"}
            ],
        }
        problems = request_conforms(subscribe_body(criteria), "SubscribeRequest", "subscribe")
        assert problems  # the IBR file allows only REGISTER/PAYMENT/DEREGISTER (docs/dci.md)
        reply = await post(api, "/registry/subscribe", subscribe_body(criteria), headers)
        acknowledged(reply, "SubscribeResponse", "on-subscribe")
        [answer] = reply["message"]["subscribe_response"]
        assert answer["status"] == "succ", answer["status_reason_message"]
        [subscription] = answer["subscriptions"]
        assert subscription["reg_event_type"] == "Death"
        assert subscription["programme_code"] == "PENSION65"

        cancel = envelope(
            "unsubscribe",
            {
                "transaction_id": "txn-unsub",
                "timesstamp": "2026-11-27T11:00:00Z",  # the spec's spellings
                "sunscription_codes": [subscription["code"]],
            },
        )
        reply = await post(api, "/registry/unsubscribe", cancel, headers)
        acknowledged(reply, "UnSubscribeResponse", "on-unsubscribe")
        assert reply["message"]["subscription_status"] == [
            {"code": subscription["code"], "status": "unsubscribe"}
        ]

    @pytest.mark.parametrize(
        ("criteria", "code"),
        [
            (
                {"reg_event_type": "REGISTER", "filter": {}, "notify_record_type": "Person"},
                "rjct.notify_types.invalid",
            ),
            (
                {"reg_event_type": "Death", "filter": {}, "notify_record_type": "Group"},
                "rjct.notify_details.invalid",
            ),
            (
                {
                    "reg_event_type": "Death",
                    "notify_record_type": "Person",
                    "filter": [
                        {"attribute_name": "location", "operator": "eq", "attribute_value": "15"}
                    ],
                },
                "rjct.notify_details.invalid",
            ),
            (
                {
                    "reg_event_type": "Death",
                    "filter": {},
                    "notify_record_type": "Person",
                    "frequency": {
                        "start_time": "2026-11-01T00:00:00Z",
                        "end_time": "2026-12-01T00:00:00Z",
                        "frequency": "0 0 0 5,15 * ? *",
                    },
                },
                "rjct.notify_details.invalid",
            ),
        ],
    )
    async def test_refused_with_a_reason_code_never_ignored(self, api, session, criteria, code):
        headers = await agency_headers(session, *OWN_PROGRAMME)
        reply = await post(api, "/registry/subscribe", subscribe_body(criteria), headers)
        acknowledged(reply, "SubscribeResponse", "on-subscribe")
        [answer] = reply["message"]["subscribe_response"]
        assert (answer["status"], answer["status_reason_code"]) == ("rjct", code)


def test_the_death_notice_push_conforms() -> None:
    record = {"identifier": [{"identifier_type": "DNI", "identifier_value": "40000001"}]}
    body = events.notify_envelope(
        "ev-1",
        "PENSION65",
        [events.Notice("ev-1:1", {**record, "death_date": "2026-11-03"})],
        signing_secret="s" * 64,
    )
    assert_conforms(
        envelope_schema("NotifyEventRequest", action="notify", header="MsgCallbackHeader_V1.0.0"),
        body,
    )
    assert body["signature"]
    assert body["header"]["status"] == "succ"


# ---------------------------------------------------------------------------------------------
# The asynchronous calls: the ACK now, the answer POSTed by the real job worker to a loopback
# receiver (allowed by these tests' SSRF policy), both validated against the spec.


@pytest.fixture
def live_state(isolated_app_state: AppState) -> AppState:
    """Committed data on the module's own database: the worker reads through its own
    connections. The receivers listen on loopback, which this app allows."""
    return replace(
        isolated_app_state, settings=Settings(environment="test", webhook_allow_private=True)
    )


@pytest.fixture
async def live(live_state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    async with await make_client(live_state) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Hook]:
    with Hook(failures=0) as running:
        yield running


async def committed_key(state: AppState, *scopes: str, **overrides: Any) -> dict[str, str]:
    async with session_scope(state.sessionmaker) as session:
        _, key = await create_api_client(session, scopes=scopes, **overrides)
    return {"Authorization": f"Bearer {key}", "X-Purpose": "elegibilidad"}


async def committed_people(state: AppState, ubigeo: str, count: int) -> list[str]:
    async with session_scope(state.sessionmaker) as session:
        household = await create_household(session, ubigeo=ubigeo)
        tag = uuid.uuid4().hex[:8]
        batch = await create_batch(session, source="JUNTOS", period="2026-10", sha256=tag * 8)
        people = []
        for _ in range(count):
            person = await create_person(session, household=household, ubigeo=ubigeo)
            await create_enrollment(session, person=person, batch=batch)
            assert person.doc_number
            people.append(person.doc_number)
    return people


async def called_back(state: AppState, hook: Hook, calls: int = 1) -> list[tuple[str, JSON]]:
    """Run the worker until ``hook`` got ``calls`` callbacks: (path, body) of each."""

    async def arrived() -> bool:
        return len(hook.calls) >= calls

    await run_jobs(state, until=arrived)
    assert len(hook.calls) == calls, hook.paths
    bodies = [json.loads(body) for _, body in hook.calls]
    return list(zip(hook.paths, bodies, strict=True))


def assert_signed(hook: Hook, index: int, key: str) -> None:
    """Signed like the death notices: the DCI signature and X-RNU-Signature, under ``key``."""
    headers, raw = hook.calls[index]
    body = json.loads(raw)
    assert body["signature"] == events.dci_signature(key, body["header"], body["message"])
    assert headers["X-RNU-Signature"] == sign(key, headers["X-RNU-Timestamp"], raw)
    assert headers["X-RNU-Event"] == body["header"]["action"]


def callback_conforms(body: JSON, message: str, action: str) -> None:
    """A callback body: the spec gives on-subscribe / on-unsubscribe a request header
    (MsgHeader) and the others a callback header; RNU's header satisfies both."""
    for header in ("MsgHeader_V1.0.0", "MsgCallbackHeader_V1.0.0"):
        assert_conforms(envelope_schema(message, action=action, header=header), body)


class TestCallbacks:
    async def test_subscribe_and_unsubscribe_are_answered_at_the_callback(
        self, live: httpx.AsyncClient, live_state: AppState, receiver: Hook
    ) -> None:
        headers = await committed_key(live_state, *OWN_PROGRAMME)
        criteria = {
            "reg_event_type": "Death",
            "notify_record_type": "Person",
            "filter": [
                {"attribute_name": "programme", "operator": "eq", "attribute_value": "PENSION65"}
            ],
        }
        body = subscribe_body(criteria, sender_uri=receiver.base)
        reply = (await live.post("/registry/subscribe", json=body, headers=headers)).json()
        acknowledged(reply, "SubscribeResponse", "on-subscribe", ack_status="ACK")
        key = reply["message"]["callback_secret"]
        [answer] = reply["message"]["subscribe_response"]
        [subscription] = answer["subscriptions"]
        assert subscription["signing_secret"]  # shown once, in the ACK only

        [(path, sent)] = await called_back(live_state, receiver)
        assert path == "/registry/on-subscribe"
        callback_conforms(sent, "SubscribeResponse", "on-subscribe")
        assert sent["message"]["correlation_id"] == reply["message"]["correlation_id"]
        [item] = sent["message"]["subscribe_response"]
        assert item["status"] == "succ"
        assert item["subscriptions"][0]["code"] == subscription["code"]
        assert "signing_secret" not in json.dumps(sent)
        assert subscription["signing_secret"] not in receiver.calls[0][1].decode()
        assert_signed(receiver, 0, key)

        cancel = envelope(
            "unsubscribe",
            {
                "transaction_id": "txn-unsub-cb",
                "timestamp": "2026-11-27T11:00:00Z",
                "subscription_codes": [subscription["code"], "999999"],
            },
            sender_uri=receiver.base + "/registry/on-unsubscribe",  # a full callback URI
        )
        reply = (await live.post("/registry/unsubscribe", json=cancel, headers=headers)).json()
        acknowledged(reply, "UnSubscribeResponse", "on-unsubscribe", ack_status="ACK")
        [_, (path, sent)] = await called_back(live_state, receiver, calls=2)
        assert path == "/registry/on-unsubscribe"
        callback_conforms(sent, "UnSubscribeResponse", "on-unsubscribe")
        assert sent["message"]["subscription_status"] == [
            {"code": subscription["code"], "status": "unsubscribe"}
        ]
        assert sent["message"]["status_reason_code"] == "rjct.subscription_code.invalid"
        assert_signed(receiver, 1, reply["message"]["callback_secret"])

    async def test_txn_status_is_answered_at_txn_on_status(
        self, live: httpx.AsyncClient, live_state: AppState
    ) -> None:
        """The status is POSTed by the job; a refused POST (HTTP 500) is retried."""
        with Hook(failures=1) as receiver:
            await self.ask_status_asynchronously(live, live_state, receiver)

    async def ask_status_asynchronously(
        self, live: httpx.AsyncClient, live_state: AppState, receiver: Hook
    ) -> None:
        headers = await committed_key(live_state, "person:read")
        criteria = {"query_type": "idtype-value", "query": {"type": "DNI", "value": "40000001"}}
        searched = await live.post(
            "/registry/sync/search", json=search_body(criteria), headers=headers
        )
        assert searched.status_code == 200, searched.text
        ask = {
            "transaction_id": "txn-st-async",
            "txnstatus_request": {
                "reference_id": "st-a",
                "txn_type": "search",
                "attribute_type": "transaction_id",
                "attribute_value": "txn-conf",
            },
        }
        body = envelope("txn-status", ask, sender_uri=receiver.base)
        assert not request_conforms(body, "TxnStatusRequest", "txn-status")
        reply = await live.post("/registry/txn/status", json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        assert_conforms(component("Response"), reply.json())
        assert reply.json()["message"]["ack_status"] == "ACK"

        [_, (path, sent)] = await called_back(live_state, receiver, calls=2)
        assert path == "/registry/txn/on-status"
        answer_conforms(sent, "TxnStatusResponse", "txn-on-status")
        assert sent["message"]["correlation_id"] == reply.json()["message"]["correlation_id"]
        txn_status = sent["message"]["txnstatus_response"]["txn_status"]
        assert txn_status["transaction_id"] == "txn-conf"
        [item] = txn_status["search_response"]
        assert item["reference_id"] == "ref-1"
        assert_signed(receiver, 1, reply.json()["message"]["callback_secret"])

        no_callback = envelope("txn-status", {**ask, "transaction_id": "txn-st-b"})
        refused = await live.post("/registry/txn/status", json=no_callback, headers=headers)
        assert refused.status_code == 400
        answer_conforms(refused.json(), "TxnStatusResponse", "txn-on-status")
        assert refused.json()["header"]["status_reason_code"] == "rjct.action.invalid"

    async def test_async_search_is_charged_to_the_record_quota(
        self, live: httpx.AsyncClient, live_state: AppState, receiver: Hook
    ) -> None:
        """Reserved at the ACK, bounded by the reservation, charged by the records the
        callback returned: 1 of a 3-record day quota is spent, the rest is given back."""
        [dni] = await committed_people(live_state, "080801", 1)
        headers = await committed_key(live_state, "person:read", daily_quota=3)

        def place(page_size: int) -> JSON:
            return {
                "query_type": "expression",
                "query": [
                    {"attribute_name": "location", "operator": "eq", "attribute_value": "080801"}
                ],
                "pagination": {"page_size": page_size},
            }

        body = search_body(place(2))
        body["header"]["sender_uri"] = receiver.base
        reply = await live.post("/registry/search", json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        assert_conforms(component("Response"), reply.json())
        [(path, sent)] = await called_back(live_state, receiver)
        assert path == "/registry/on-search"
        answer_conforms(sent, "SearchResponse", "on-search")
        [item] = sent["message"]["search_response"]
        [record] = item["data"]["reg_records"]
        assert record["identifier"][0]["identifier_value"] == dni
        assert_signed(receiver, 0, reply.json()["message"]["callback_secret"])

        # 2 of 3 are left: a call that may return 3 does not fit, one that may return 2 does.
        wide = await live.post("/registry/sync/search", json=search_body(place(3)), headers=headers)
        assert wide.status_code == 429, wide.text
        assert wide.json()["errors"][0]["code"] == "err.request.too_many_requests"
        again = search_body(place(3))
        again["header"]["sender_uri"] = receiver.base
        refused = await live.post("/registry/search", json=again, headers=headers)
        assert refused.status_code == 429  # refused at the ACK: no job, no callback
        fits = await live.post("/registry/sync/search", json=search_body(place(2)), headers=headers)
        assert fits.status_code == 200, fits.text
        await run_jobs(live_state)
        assert len(receiver.calls) == 1

    async def test_async_search_is_bounded_per_call(
        self,
        live: httpx.AsyncClient,
        live_state: AppState,
        receiver: Hook,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from api.auth import agency as agency_auth

        monkeypatch.setattr(agency_auth, "MAX_RECORDS_PER_CALL", 1)
        first, second = await committed_people(live_state, "080802", 2)
        headers = await committed_key(live_state, "person:read")
        body = search_body({"query_type": "idtype-value", "query": {"type": "DNI", "value": first}})
        body["message"]["search_request"].append(
            {
                "reference_id": "ref-2",
                "timestamp": "2026-11-27T10:00:00Z",
                "search_criteria": {
                    "query_type": "idtype-value",
                    "query": {"type": "DNI", "value": second},
                },
            }
        )
        body["header"]["sender_uri"] = receiver.base
        reply = await live.post("/registry/search", json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        # While the job waits, txn/status says pdng and never shows the stored request
        # (its query holds DNIs).
        status = envelope(
            "txn-status",
            {
                "transaction_id": "txn-st-wait",
                "txnstatus_request": {
                    "reference_id": "w1",
                    "txn_type": "search",
                    "attribute_type": "transaction_id",
                    "attribute_value": "txn-conf",
                },
            },
        )
        waiting = await live.post("/registry/sync/txn/status", json=status, headers=headers)
        answer_conforms(waiting.json(), "TxnStatusResponse", "txn-on-status")
        txn_status = waiting.json()["message"]["txnstatus_response"]["txn_status"]
        assert txn_status["status"] == "pdng"
        assert first not in waiting.text
        assert "pending" not in txn_status["summary"]
        [(_, sent)] = await called_back(live_state, receiver)
        answer_conforms(sent, "SearchResponse", "on-search")
        one, two = sent["message"]["search_response"]
        assert one["status"] == "succ"
        assert two["status_reason_code"] == "rjct.search.too_many_records_found"
