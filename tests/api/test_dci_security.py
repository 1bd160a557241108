"""Regressions of issue 11 on the DCI routes with RNU's default settings (no private targets).

Item 7: callback URLs that point inside RNU's network are refused when subscribing (the
delivery side is in test_dci_notify.py). Item 17: an unsubscribe code beyond int64 is a
reason code, not a 500.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.agency_support import agency_headers
from tests.api.dci_support import OWN_PROGRAMME, envelope, subscribe_envelope
from tests.factories import create_batch, create_enrollment, create_household, create_person

OWN = OWN_PROGRAMME


BAD_CALLBACKS = (
    "http://127.0.0.1:9/x",
    "https://0x7f000001/x",
    "https://2130706433/x",
    "https://127.1/x",
    "https://[::1]/x",
    "https://[::ffff:127.0.0.1]/x",
    "http://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/x",
    "https://192.168.1.10/x",
    "https://100.64.0.1/x",
    "https://redis:6379/",
    "https://localhost/x",
    "https://db.internal/x",
    "https://user:pass@example.org/x",
    "ftp://example.org/x",
)


class TestCallbackUrls:
    @pytest.mark.parametrize("url", BAD_CALLBACKS)
    async def test_internal_targets_are_refused_at_subscribe(
        self, api: httpx.AsyncClient, session: AsyncSession, url: str
    ) -> None:
        headers = await agency_headers(session, *OWN)
        reply = await api.post("/registry/subscribe", headers=headers, json=subscribe_envelope(url))
        assert reply.status_code == 200, reply.text
        [answer] = reply.json()["message"]["subscribe_response"]
        assert answer["status"] == "rjct", answer
        assert answer["status_reason_code"] == "rjct.notify_details.invalid"

    @pytest.mark.parametrize("url", BAD_CALLBACKS[:8])
    @pytest.mark.parametrize(
        ("path", "action", "message"),
        [
            ("/registry/search", "search", {"search_request": []}),
            ("/registry/txn/status", "txn-status", {"txnstatus_request": {"reference_id": "s"}}),
            ("/registry/subscribe", "subscribe", {"subscribe_request": []}),
            ("/registry/unsubscribe", "unsubscribe", {"subscription_codes": ["1"]}),
        ],
    )
    async def test_an_internal_sender_uri_is_refused_before_anything_is_done(
        self,
        api: httpx.AsyncClient,
        session: AsyncSession,
        url: str,
        path: str,
        action: str,
        message: dict[str, object],
    ) -> None:
        """Every asynchronous call's callback goes through the SSRF guard: refused with the
        spec's err.sender_uri.invalid, no transaction recorded, no job queued."""
        headers = await agency_headers(session, *OWN)
        body = envelope(action, {"transaction_id": "t-ssrf", **message}, sender_uri=url)
        reply = await api.post(path, headers=headers, json=body)
        assert reply.status_code == 400, reply.text
        assert reply.json()["errors"][0]["code"] == "err.sender_uri.invalid"
        recorded = await session.scalar(
            text("SELECT count(*) FROM dci_transaction WHERE transaction_id = 't-ssrf'")
        )
        assert recorded == 0


async def test_oversized_subscription_code_is_a_reason_code_not_a_500(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Issue 11 item 17: a code beyond int64 is an unknown subscription."""
    headers = await agency_headers(session, *OWN)
    reply = await api.post(
        "/registry/unsubscribe",
        headers=headers,
        json=envelope(
            "unsubscribe",
            {
                "transaction_id": "t-unsub",
                "timestamp": "2026-11-27T10:00:00Z",
                "subscription_codes": ["99999999999999999999", "-1", "1e3"],
            },
        ),
    )
    assert reply.status_code == 200, reply.text
    message = reply.json()["message"]
    assert message["subscription_status"] == []
    assert message["status_reason_code"] == "rjct.subscription_code.invalid"
    refused = [s["status_reason_code"] for s in message["rejected_codes"]]
    assert refused == ["rjct.subscription_code.invalid"] * 3


LOCATION_090101 = {"attribute_name": "location", "operator": "eq", "attribute_value": "090101"}


async def test_a_person_without_documents_is_audited_when_returned(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Issue 11 item 6: an undocumented minor found by an expression search leaves an audit
    row on their registry key (before: returned, and never audited)."""
    household = await create_household(session, ubigeo="090101")
    child = await create_person(
        session, household=household, ubigeo="090101", doc_type=None, doc_number=None
    )
    batch = await create_batch(session, source="JUNTOS", period="2026-10")
    await create_enrollment(session, person=child, batch=batch)
    headers = await agency_headers(session, "person:read")
    body = envelope(
        "search",
        {
            "transaction_id": "t-undocumented",
            "search_request": [
                {
                    "reference_id": "r1",
                    "timestamp": "2026-11-27T10:00:00Z",
                    "search_criteria": {
                        "query_type": "expression",
                        "query": [
                            {
                                "attribute_name": "location",
                                "operator": "eq",
                                "attribute_value": "090101",
                            }
                        ],
                    },
                }
            ],
        },
    )
    reply = (await api.post("/registry/sync/search", json=body, headers=headers)).json()
    [item] = reply["message"]["search_response"]
    assert len(item["data"]["reg_records"]) == 1
    rows = (
        await (await session.connection()).execute(
            text("SELECT subject_hmac FROM audit_event WHERE action = 'dci.read'")
        )
    ).all()
    assert len(rows) == 1
    assert rows[0].subject_hmac.startswith("p:")
