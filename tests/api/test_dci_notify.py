"""DEATH_REGISTERED: subscribe, load a RENIEC file, get a signed webhook, retried on failure."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from api.state import AppState
from rnu.db import session_scope
from rnu.ingest.service import load_file, plan_file
from tests.api.agency_support import committed_agency, run_jobs
from tests.factories import create_batch, create_enrollment, create_household, create_person


@pytest.fixture
def app_state(isolated_app_state: AppState) -> AppState:
    """These tests commit deaths, people and jobs: a database of their own."""
    return isolated_app_state


class Hook:
    """A loopback webhook receiver that fails the first ``failures`` calls with HTTP 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.calls.append((dict(self.headers), body))
                failing = len(hook.calls) <= hook.failures
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/defunciones"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with Hook(failures=1) as running:
        yield running


def envelope(action: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "signature": "",
        "header": {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": "2026-11-27T10:00:00Z",
            "action": action,
            "sender_id": "pension65.gob.pe",
            "total_count": 1,
        },
        "message": message,
    }


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
        headers = await committed_agency(app_state, "events:subscribe")
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
        records = payload["message"]["notify_event"][0]["data"]["reg_records"]
        assert [r["identifier"][0]["identifier_value"] for r in records] == [dead_p65]
        assert records[0]["death_date"] == "2026-11-03"
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
