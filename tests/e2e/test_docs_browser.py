"""Swagger UI (/docs) and GraphiQL (/graphql) render in a real headless Chromium that may
reach nothing but RNU: every request to another host is blocked and recorded, and the pages
must still come up (issue 12 items 11-12: a closed network had a blank /docs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from rnu.config import Settings
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.migrate import upgrade
from tests.conftest import drop_test_database, make_test_database
from tests.e2e.test_public_browser import ARGS, CHROMIUM, _free_port
from tests.factories import create_api_client

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian package chromium)"),
]


@pytest.fixture(scope="module")
def docs_database(server_url: str) -> Iterator[str]:
    url = make_test_database(server_url, prefix="rnu_e2e_docs")
    upgrade(url)
    yield url
    drop_test_database(server_url, url)


async def _agency_key(database_url: str) -> str:
    engine = make_engine(database_url, pool_size=1, role="e2e-seed")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            _, key = await create_api_client(session, scopes=("person:read",))
            return key
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def site(docs_database: str, redis_url: str) -> AsyncIterator[tuple[str, str]]:
    key = await _agency_key(docs_database)
    from web.app import create_app

    settings = Settings(
        database_url=docs_database,
        redis_url=redis_url,
        environment="test",
        secret_key="e2e-secret",
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}", key
    server.should_exit = True
    await task


@pytest.fixture
async def offline_page(site: tuple[str, str]) -> AsyncIterator[tuple[Any, list[str], list[str]]]:
    """A page whose requests to any other host are aborted (and listed), and its JS errors."""
    from playwright.async_api import async_playwright

    blocked: list[str] = []
    errors: list[str] = []

    async def only_rnu(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context()
        await context.route("**/*", only_rnu)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, blocked, errors
        await browser.close()


async def test_swagger_ui_renders_offline(site, offline_page) -> None:
    url, _ = site
    page, blocked, errors = offline_page
    await page.goto(f"{url}/docs")
    await page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Registro Nacional de Usuarios" in await page.inner_text(".swagger-ui .info .title")
    await page.wait_for_selector(".opblock-tag", timeout=20_000)  # the operations are listed
    assert blocked == []
    assert errors == []


async def test_graphiql_renders_offline_and_runs_a_query(site, offline_page) -> None:
    url, key = site
    page, blocked, errors = offline_page
    await page.goto(f"{url}/graphql")
    await page.wait_for_selector(".graphiql-container", timeout=20_000)
    await page.wait_for_selector("text=Cobertura", timeout=20_000)  # the default query
    # The explorer's own endpoint answers from the page (what its fetcher does).
    answer = await page.evaluate(
        """async (key) => {
            const r = await fetch('/graphql', {method: 'POST', headers: {
                'Content-Type': 'application/json', 'Authorization': 'Bearer ' + key,
                'X-Purpose': 'verificacion'}, body: JSON.stringify({query: '{ __typename }'})});
            return await r.json();
        }""",
        key,
    )
    assert answer == {"data": {"__typename": "Query"}}
    assert blocked == []
    assert errors == []
