"""DEATH_REGISTERED: subscribe, load a RENIEC file, get a signed webhook, retried on failure.

Also the regressions of issue 11: notices only for the agency's own programmes and through its
policy (item 1), callback URLs that point inside RNU's network refused at subscribe time and
at delivery (item 7), notices that commit with the deaths batch (item 14), and a too-large
subscription code (item 17).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.state import AppState
from rnu.agency.models import Subscription
from rnu.agency.webhooks import WebhookPolicy
from rnu.config import Settings
from rnu.db import connect_raw, session_scope
from rnu.ingest.deaths import load_deaths
from rnu.ingest.rows import DeathRow
from tests.api.agency_support import committed_agency, run_jobs
from tests.api.dci_conformance_support import answer_conforms, assert_conforms, component
from tests.api.dci_support import OWN_PROGRAMME, Hook, envelope, subscribe_envelope
from tests.factories import (
    create_api_client,
    create_batch,
    create_enrollment,
    create_household,
    create_person,
)
from usecases.loads import load_file, plan_file

OWN = OWN_PROGRAMME


@pytest.fixture
def app_state(isolated_app_state: AppState) -> AppState:
    """These tests commit deaths, people and jobs: a database of their own.

    The webhook receivers of these tests listen on loopback, which RNU refuses by default
    (SSRF): this app allows private addresses, as a closed network's deployment may.
    """
    return replace(
        isolated_app_state, settings=Settings(environment="test", webhook_allow_private=True)
    )


@pytest.fixture
def hook() -> Iterator[Hook]:
    with Hook(failures=1) as running:
        yield running


async def seed_users(state: AppState) -> tuple[str, str]:
    """A PENSION65 user and a JUNTOS user, committed; both will die."""
    async with session_scope(state.sessionmaker) as session:
        household = await create_household(session)
        p65 = await create_person(session, household=household, birth_on=date(1940, 1, 1))
        juntos = await create_person(session, household=household)
        tag = uuid.uuid4().hex[:8]
        batch = await create_batch(session, source="PENSION65", period="2026-10", sha256=tag * 8)
        other = await create_batch(session, source="JUNTOS", period="2026-10", sha256=tag[::-1] * 8)
        await create_enrollment(session, person=p65, batch=batch)
        await create_enrollment(session, person=juntos, batch=other)
    assert p65.doc_number
    assert juntos.doc_number
    return p65.doc_number, juntos.doc_number


@pytest.mark.slow
class TestDeathNotifications:
    async def test_subscriber_gets_signed_notice_after_one_retry(
        self, client: httpx.AsyncClient, app_state: AppState, hook: Hook, tmp_path: Path
    ) -> None:
        headers = await committed_agency(app_state, *OWN)
        reply = await client.post(
            "/registry/subscribe",
            headers=headers,
            json=envelope(
                "subscribe",
                {
                    "transaction_id": "t-sub-1",
                    "subscribe_request": [
                        {
                            "reference_id": "r1",
                            "timestamp": "2026-11-27T10:00:00Z",
                            "subscribe_criteria": {
                                "reg_event_type": "DEATH_REGISTERED",
                                "programme_code": "PENSION65",
                                "notify_url": hook.url,
                            },
                        }
                    ],
                },
            ),
        )
        assert reply.status_code == 200, reply.text
        [answer] = reply.json()["message"]["subscribe_response"]
        assert answer["status"] == "succ"
        [subscription] = answer["subscriptions"]
        secret = subscription["signing_secret"]

        dead_p65, dead_juntos = await seed_users(app_state)
        deaths = tmp_path / "reniec_defunciones_202611.csv"
        deaths.write_text(f"NU_DNI,FE_DEFUNCION\n{dead_p65},2026-11-03\n{dead_juntos},2026-11-04\n")
        result = await load_file(app_state.endpoints.database_url, plan_file(deaths))
        assert result.status == "committed"

        async def delivered() -> bool:
            async with session_scope(app_state.sessionmaker) as session:
                status = await session.scalar(
                    text("SELECT status FROM notification_delivery WHERE subscription_id = :s"),
                    {"s": int(subscription["code"])},
                )
            return status == "delivered"

        await run_jobs(app_state, until=delivered)
        assert await delivered()
        assert len(hook.calls) == 2  # one refused with 500, then accepted
        sent_headers, body = hook.calls[-1]
        expected = hmac.new(
            secret.encode(), sent_headers["X-RNU-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert sent_headers["X-RNU-Signature"] == f"sha256={expected}"
        assert sent_headers["X-RNU-Event"] == "DEATH_REGISTERED"
        payload = json.loads(body)
        events = payload["message"]["notify_event"]
        records = [e["data"]["reg_records"] for e in events]
        assert [r["identifier"][0]["identifier_value"] for r in records] == [dead_p65]
        assert records[0]["death_date"] == "2026-11-03"
        assert records[0]["programmes"] == ["PENSION65"]
        assert events[0]["data"]["reg_event_type"] == "Death"
        assert payload["header"]["status"] == "succ"
        assert payload["signature"].startswith("Signature:")
        assert payload["header"]["action"] == "notify"
        async with session_scope(app_state.sessionmaker) as session:
            attempts = await session.scalar(
                text("SELECT attempts FROM notification_delivery WHERE subscription_id = :s"),
                {"s": int(subscription["code"])},
            )
            audited = await session.scalar(
                text(
                    "SELECT count(*) FROM audit_event WHERE action = 'notify.death' "
                    "AND details->>'delivery_id' IS NOT NULL AND purpose = 'fallecidos'"
                ),
            )
        assert attempts == 2
        assert audited >= 1


async def seed_deceased(state: AppState, *programs: str) -> str:
    """One person enrolled in these programmes, committed; returns the DNI."""
    async with session_scope(state.sessionmaker) as session:
        household = await create_household(session)
        person = await create_person(session, household=household, birth_on=date(1950, 1, 1))
        for code in programs:
            batch = await create_batch(
                session, source=code, period="2026-10", sha256=uuid.uuid4().hex * 2
            )
            await create_enrollment(session, person=person, batch=batch)
    assert person.doc_number
    return person.doc_number


async def delivery_status(state: AppState, subscription_code: str) -> str | None:
    async with session_scope(state.sessionmaker) as session:
        value = await session.scalar(
            text("SELECT status FROM notification_delivery WHERE subscription_id = :s"),
            {"s": int(subscription_code)},
        )
    return None if value is None else str(value)


@pytest.mark.slow
class TestNoticesFollowThePolicy:
    """Issue 11 item 1: a death notice is a read, by the subscriber's policy, of its own users."""

    async def test_events_scope_alone_cannot_subscribe(
        self, client: httpx.AsyncClient, app_state: AppState, hook: Hook
    ) -> None:
        headers = await committed_agency(app_state, "events:subscribe")
        reply = await client.post(
            "/registry/subscribe", headers=headers, json=subscribe_envelope(hook.url)
        )
        assert reply.status_code == 403

    async def test_another_agencys_programme_is_refused(
        self, client: httpx.AsyncClient, app_state: AppState, hook: Hook
    ) -> None:
        headers = await committed_agency(
            app_state, "events:subscribe", "person:read", "enrollment:write:JUNTOS"
        )
        reply = await client.post(
            "/registry/subscribe", headers=headers, json=subscribe_envelope(hook.url)
        )
        assert reply.status_code == 200, reply.text
        [answer] = reply.json()["message"]["subscribe_response"]
        assert answer["status"] == "rjct"
        assert answer["status_reason_code"] == "rjct.notify_details.invalid"

    async def test_record_carries_only_own_programmes_and_no_disability(
        self, client: httpx.AsyncClient, app_state: AppState, hook: Hook, tmp_path: Path
    ) -> None:
        hook.failures = 0
        headers = await committed_agency(app_state, *OWN)
        reply = await client.post(
            "/registry/subscribe", headers=headers, json=subscribe_envelope(hook.url, None)
        )
        [answer] = reply.json()["message"]["subscribe_response"]
        assert answer["status"] == "succ", answer
        code = answer["subscriptions"][0]["code"]
        p65_and_contigo = await seed_deceased(app_state, "PENSION65", "CONTIGO", "JUNTOS")
        juntos_only = await seed_deceased(app_state, "JUNTOS")
        deaths = tmp_path / "reniec_defunciones_202611.csv"
        deaths.write_text(
            f"NU_DNI,FE_DEFUNCION\n{p65_and_contigo},2026-11-03\n{juntos_only},2026-11-04\n"
        )
        assert (await load_file(app_state.endpoints.database_url, plan_file(deaths))).status == (
            "committed"
        )

        async def done() -> bool:
            return await delivery_status(app_state, code) == "delivered"

        await run_jobs(app_state, until=done)
        assert await done()
        _, body = hook.calls[-1]
        records = [e["data"]["reg_records"] for e in json.loads(body)["message"]["notify_event"]]
        assert [r["identifier"][0]["identifier_value"] for r in records] == [p65_and_contigo]
        assert records[0]["programmes"] == ["PENSION65"]
        async with session_scope(app_state.sessionmaker) as session:
            fields = await session.scalar(
                text("SELECT fields FROM audit_event WHERE action = 'notify.death'")
            )
        assert "death_date" in fields
        assert "dni" in fields


class TestCallbackUrls:
    """Issue 11 item 7 (delivery side; the subscribe side is in test_dci_security.py)."""

    @pytest.mark.slow
    async def test_delivery_rechecks_the_address(
        self, client: httpx.AsyncClient, app_state: AppState, hook: Hook, tmp_path: Path
    ) -> None:
        """A subscription accepted once (here: while private targets were allowed) is checked
        again at delivery: with the default policy the loopback receiver is never called."""
        hook.failures = 0
        headers = await committed_agency(app_state, *OWN)
        reply = await client.post(
            "/registry/subscribe", headers=headers, json=subscribe_envelope(hook.url)
        )
        [answer] = reply.json()["message"]["subscribe_response"]
        code = answer["subscriptions"][0]["code"]
        dead = await seed_deceased(app_state, "PENSION65")
        deaths = tmp_path / "reniec_defunciones_202611.csv"
        deaths.write_text(f"NU_DNI,FE_DEFUNCION\n{dead},2026-11-03\n")
        await load_file(app_state.endpoints.database_url, plan_file(deaths))

        async def settled() -> bool:
            return await delivery_status(app_state, code) == "failed"

        await run_jobs(
            app_state, until=settled, webhook_policy=WebhookPolicy(allow_plain_http=True)
        )
        assert await settled()
        assert hook.calls == []


@pytest.mark.slow
async def test_notices_commit_with_the_deaths_batch(app_state: AppState, tmp_path: Path) -> None:
    """Issue 11 item 14: the deliveries and their jobs exist once the batch has committed,
    written by the batch's own transaction (before, a crash after the commit lost them)."""
    async with session_scope(app_state.sessionmaker) as session:
        client, _ = await create_api_client(session, scopes=OWN)
        subscription = Subscription(
            client_id=client.id,
            event_type="DEATH_REGISTERED",
            program_code="PENSION65",
            callback_url="https://example.org/hook",
            secret_nonce="n" * 32,
        )
        session.add(subscription)
        await session.flush()
    dead = await seed_deceased(app_state, "PENSION65")
    deaths = tmp_path / "reniec_defunciones_202611.csv"
    deaths.write_text(f"NU_DNI,FE_DEFUNCION\n{dead},2026-11-03\n")
    rows = [DeathRow(row_number="2", dni=dead, death_date=date(2026, 11, 3))]
    conn = await connect_raw(app_state.endpoints.database_url)
    try:
        result = await load_deaths(conn, deaths, rows, period="2026-11")
    finally:
        await conn.close()
    assert result.status == "committed"
    async with session_scope(app_state.sessionmaker) as session:
        queued = await session.scalar(
            text(
                "SELECT count(*) FROM notification_delivery d JOIN procrastinate_jobs j "
                "ON (j.args->>'delivery_id')::bigint = d.id "
                "WHERE d.batch_id = :b AND d.subscription_id = :s"
            ),
            {"b": result.batch_id, "s": subscription.id},
        )
    assert queued == 1


@pytest.mark.slow
async def test_async_search_acknowledges_then_posts_on_search(
    client: httpx.AsyncClient, app_state: AppState, hook: Hook
) -> None:
    """/registry/search: the spec's ACK now, the SearchResponse POSTed to sender_uri's
    on-search by the job queue (retried once here), both conforming to the spec."""
    dni = await seed_deceased(app_state, "PENSION65")  # alive or not, a person to find
    headers = await committed_agency(app_state, "person:read", purpose="elegibilidad")
    sender = hook.url.rsplit("/", 1)[0]
    body = envelope(
        "search",
        {
            "transaction_id": "t-async",
            "search_request": [
                {
                    "reference_id": "a1",
                    "timestamp": "2026-11-27T10:00:00Z",
                    "search_criteria": {
                        "query_type": "idtype-value",
                        "query": {"type": "DNI", "value": dni},
                    },
                }
            ],
        },
        sender_uri=sender,
    )
    reply = await client.post("/registry/search", headers=headers, json=body)
    assert reply.status_code == 200, reply.text
    assert_conforms(component("Response"), reply.json())
    correlation_id = reply.json()["message"]["correlation_id"]

    async def answered() -> bool:
        return any(json.loads(b)["header"]["action"] == "on-search" for _, b in hook.calls[1:])

    await run_jobs(app_state, until=answered)
    assert await answered()
    sent = json.loads(hook.calls[-1][1])
    answer_conforms(sent, "SearchResponse", "on-search")
    assert sent["message"]["correlation_id"] == correlation_id
    [item] = sent["message"]["search_response"]
    assert item["data"]["reg_records"][0]["identifier"][0]["identifier_value"] == dni
    async with session_scope(app_state.sessionmaker) as session:
        audited = await session.scalar(
            text("SELECT count(*) FROM audit_event WHERE action = 'dci.read' AND purpose = :p"),
            {"p": "elegibilidad"},
        )
    assert audited == 1  # the refused first POST rolled its reads back
