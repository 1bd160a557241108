"""Security headers on every response, and /metrics closed in production (issue 11.18)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from api.headers import CSP, DOCS_CSP
from api.state import AppState
from rnu.config import Settings
from tests.api.public_support import make_client

PAGES = [
    ("GET", "/"),
    ("GET", "/consulta"),
    ("GET", "/padron"),
    ("GET", "/static/rnu.css"),
    ("GET", "/api/v1/estadisticas"),
    ("GET", "/no-existe"),
    ("POST", "/api/v1/consulta"),  # 422
    ("GET", "/analista/ingresar"),
    ("GET", "/healthz"),
]


def _check(response: httpx.Response) -> None:
    h = response.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in h["content-security-policy"]


@pytest.mark.parametrize(("method", "path"), PAGES)
async def test_every_response_carries_the_headers(
    app_state: AppState, method: str, path: str
) -> None:
    async with await make_client(app_state) as client:
        response = await client.request(method, path)
    _check(response)
    if not path.startswith("/docs"):
        assert response.headers["content-security-policy"] == CSP
        assert "unsafe-inline" not in CSP
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_a_500_carries_them_too(app_state: AppState) -> None:
    from web.app import create_app

    app = create_app(state=app_state)

    @app.get("/prueba/falla")
    async def falla() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/prueba/falla")
    assert response.status_code == 500
    _check(response)


async def test_docs_get_their_own_policy(app_state: AppState) -> None:
    async with await make_client(app_state) as client:
        response = await client.get("/docs")
    _check(response)
    assert response.headers["content-security-policy"] == DOCS_CSP


async def test_pages_have_no_inline_script_or_style(app_state: AppState) -> None:
    # What lets the CSP go without 'unsafe-inline': no page needs it.
    async with await make_client(app_state) as client:
        for path in ("/", "/consulta", "/padron", "/reportar", "/seguimiento", "/estadisticas"):
            html = (await client.get(path)).text.lower()
            assert "<style" not in html
            assert " style=" not in html
            assert "<script>" not in html
            assert "<script type" not in html
            assert " onclick=" not in html
            assert " onsubmit=" not in html


def _client(state: AppState, base_url: str = "http://test") -> httpx.AsyncClient:
    from web.app import create_app

    # The peer is 127.0.0.1, as nginx on the same host would be.
    transport = httpx.ASGITransport(app=create_app(state=state), client=("127.0.0.1", 5000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def test_hsts_behind_tls_from_a_trusted_proxy_only(app_state: AppState) -> None:
    trusting = replace(
        app_state, settings=Settings(environment="test", trusted_proxies="127.0.0.1")
    )
    async with _client(trusting) as client:
        behind_tls = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        plain = await client.get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert behind_tls.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "strict-transport-security" not in plain.headers
    async with _client(app_state) as client:  # nobody trusted: the header is a client's claim
        forged = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in forged.headers
    async with _client(app_state, "https://test") as client:  # TLS to the app itself
        assert "strict-transport-security" in (await client.get("/healthz")).headers


def _production(app_state: AppState, **extra: Any) -> AppState:
    settings = Settings(environment="production", secret_key="a-real-secret-for-tests", **extra)
    return replace(app_state, settings=settings)


async def test_metrics_are_closed_in_production(app_state: AppState) -> None:
    async with await make_client(_production(app_state)) as client:
        closed = await client.get("/metrics")
        unknown = await client.get("/no-existe")
    assert closed.status_code == 404
    assert closed.json() == unknown.json()


async def test_metrics_answer_the_scraper_token_in_production(app_state: AppState) -> None:
    async with await make_client(_production(app_state, metrics_token="tok-123")) as client:
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer tok-12"})
        weird = await client.get("/metrics", headers={b"Authorization": "Bearer ñ".encode()})
        right = await client.get("/metrics", headers={"Authorization": "Bearer tok-123"})
    assert wrong.status_code == 404
    assert weird.status_code == 404
    assert right.status_code == 200
    assert "rnu_http_requests_total" in right.text


async def test_metrics_stay_open_outside_production(app_state: AppState) -> None:
    async with await make_client(app_state) as client:
        assert (await client.get("/metrics")).status_code == 200
