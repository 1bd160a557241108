"""Callback targets (issue 11 item 7): names, resolved addresses, the production allow-list,
and the pinned connection that keeps a second DNS answer from reaching an internal address."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

import pytest

from rnu.agency import webhooks
from rnu.agency.webhooks import WebhookPolicy
from rnu.errors import InvalidInput

PUBLIC = WebhookPolicy()


def resolving_to(*addresses: str) -> Callable[[str, int], Awaitable[list[webhooks.IPAddress]]]:
    async def resolve(host: str, port: int) -> list[webhooks.IPAddress]:
        return [ipaddress.ip_address(a) for a in addresses]

    return resolve


async def test_a_public_name_resolving_inside_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS is the caller's: hooks.example.org may well point at 127.0.0.1 or 10.x."""
    for inside in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:192.168.0.1"):
        monkeypatch.setattr(webhooks, "resolve", resolving_to("93.184.216.34", inside))
        with pytest.raises(InvalidInput, match="not a public address"):
            await webhooks.check("https://hooks.example.org/notify", PUBLIC)


async def test_the_checked_address_is_the_one_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "resolve", resolving_to("93.184.216.34"))
    target = await webhooks.check("https://hooks.example.org:8443/dci/notify?x=1", PUBLIC)
    assert target.pinned_url == "https://93.184.216.34:8443/dci/notify?x=1"
    assert target.host_header == "hooks.example.org:8443"
    assert target.host == "hooks.example.org"  # SNI and certificate name
    monkeypatch.setattr(webhooks, "resolve", resolving_to("2606:2800:220:1::1"))
    target = await webhooks.check("https://hooks.example.org/n", PUBLIC)
    assert target.pinned_url == "https://[2606:2800:220:1::1]:443/n"
    assert target.host_header == "hooks.example.org"


async def test_production_allows_only_listed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "resolve", resolving_to("93.184.216.34"))
    production = WebhookPolicy.from_settings(
        environment="production", hosts="hooks.pension65.gob.pe, .minsa.gob.pe", allow_private=False
    )
    assert (await webhooks.check("https://hooks.pension65.gob.pe/n", production)).address
    assert (await webhooks.check("https://api.minsa.gob.pe/n", production)).address
    for url in ("https://evil.example.org/n", "http://hooks.pension65.gob.pe/n"):
        with pytest.raises(InvalidInput):
            await webhooks.check(url, production)
    nobody = WebhookPolicy.from_settings(environment="production", hosts="", allow_private=False)
    with pytest.raises(InvalidInput, match="allowed callback hosts"):
        await webhooks.check("https://hooks.pension65.gob.pe/n", nobody)


async def test_allow_private_still_refuses_nonsense() -> None:
    lenient = WebhookPolicy(allow_plain_http=True, allow_private=True)
    assert (await webhooks.check("http://127.0.0.1:9/x", lenient)).address == "127.0.0.1"
    for url in ("https://0.0.0.0/x", "https://224.0.0.1/x", "gopher://127.0.0.1/"):
        with pytest.raises(InvalidInput):
            await webhooks.check(url, lenient)
