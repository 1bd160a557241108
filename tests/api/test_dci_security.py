"""Regressions of issue 11 on the DCI routes with RNU's default settings (no private targets).

Item 7: callback URLs that point inside RNU's network are refused when subscribing (the
delivery side is in test_dci_notify.py). Item 17: an unsubscribe code beyond int64 is a
reason code, not a 500.
"""

from __future__ import annotations

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.agency_support import agency_headers
from tests.api.dci_support import OWN_PROGRAMME, envelope, subscribe_envelope

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
