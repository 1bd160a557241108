"""Developer surfaces: /docs and GraphiQL with local assets only, the SDL, and all of it (plus
introspection) off in production unless turned on (issue 12 items 11-12, issue 11 item 18)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from api.state import AppState
from tests.api.agency_support import agency_headers
from tests.api.graphql.test_graphql import gql
from tests.api.public_support import bind, make_client

SDL = Path(__file__).resolve().parents[3] / "api" / "graphql" / "schema.graphql"
INTROSPECTION = "{ __schema { queryType { name } } }"


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def referenced(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def assert_self_hosted(html: str) -> list[str]:
    """Every script, stylesheet and icon the page loads is a path on RNU itself."""
    urls = referenced(html)
    assert urls, "the page loads no assets at all"
    external = [u for u in urls if not u.startswith("/") or u.startswith("//")]
    assert external == [], external
    assert "http://" not in html
    assert "https://" not in html
    return urls


async def client_for(state: AppState, session, **settings: object) -> httpx.AsyncClient:
    return await make_client(bind(state, session, **settings))


@pytest.fixture
async def production(app_state: AppState, session) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(app_state, session, environment="production") as client:
        yield client


class TestOffline:
    async def test_swagger_ui_loads_only_local_assets(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/docs")
        assert response.status_code == 200
        urls = assert_self_hosted(response.text)
        assert "/api/v1/openapi.json" in response.text
        for url in urls:
            asset = await api.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1_000, url

    async def test_graphiql_loads_only_local_assets(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        urls = assert_self_hosted(response.text)
        assert any(u.endswith("graphiql.min.js") for u in urls)
        for url in urls:
            asset = await api.get(url)
            assert asset.status_code == 200, url
        assert (await api.get("/graphql/assets/LICENSE.graphiql")).status_code == 404

    async def test_sdl_is_served(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/graphql/schema.graphql")
        assert response.status_code == 200
        assert response.text == SDL.read_text()


class TestProduction:
    async def test_docs_openapi_graphiql_and_sdl_are_off(self, production) -> None:
        assert (await production.get("/docs")).status_code == 404
        assert (await production.get("/api/v1/openapi.json")).status_code == 404
        assert (await production.get("/graphql/schema.graphql")).status_code == 404
        assert (await production.get("/graphql/assets/graphiql.min.js")).status_code == 404
        page = await production.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 405

    async def test_introspection_is_off(self, production, session) -> None:
        headers = await agency_headers(session, "person:read")
        response = await gql(production, headers, INTROSPECTION)
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert {e["extensions"]["code"] for e in errors} == {"INTROSPECTION_DISABLED"}
        assert "__schema" in errors[0]["message"]

    async def test_a_setting_turns_them_on(self, app_state, session) -> None:
        settings = {
            "environment": "production",
            "api_docs": True,
            "graphql_introspection": True,
            "graphql_persisted_only": False,
        }
        async with await client_for(app_state, session, **settings) as client:
            assert (await client.get("/docs")).status_code == 200
            assert (await client.get("/api/v1/openapi.json")).status_code == 200
            headers = await agency_headers(session, "person:read")
            body = (await gql(client, headers, INTROSPECTION)).json()
            assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


class TestGuide:
    """docs/graphql.md: its example queries run as written, at the costs it states."""

    GUIDE = Path(__file__).resolve().parents[3] / "docs" / "graphql.md"

    def examples(self) -> list[str]:
        import re

        return re.findall(r"```graphql\n(.*?)```", self.GUIDE.read_text(), flags=re.S)

    def test_examples_pass_every_check_at_the_stated_costs(self) -> None:
        from api.graphql.checks import check_operation

        examples = self.examples()
        assert len(examples) == 3
        costs = [check_operation(q, None, None, introspection=False).measure.cost for q in examples]
        assert costs == [1_101, 406, 130]  # as the guide's "Limits" section states
        text = " ".join(self.GUIDE.read_text().split())
        assert "examples below cost 1,101 (whatever the number of documents" in text
        assert "406 and 130" in text

    async def test_examples_answer(self, api, session) -> None:
        from tests.api.graphql.test_graphql import seed

        [doc] = await seed(session)
        headers = await agency_headers(session, "person:read", "person:read:sensitive")
        batch, one, household = self.examples()
        body = (await gql(api, headers, batch, dnis=[doc, "123"])).json()
        assert "errors" not in body, body
        edges = body["data"]["persons"]["edges"]
        assert [e["node"]["valid"] for e in edges] == [True, False]
        assert edges[0]["node"]["person"]["programs"] == ["JUNTOS"]
        body = (await gql(api, headers, one, dni=doc)).json()
        assert "errors" not in body, body
        assert body["data"]["person"]["enrollments"]["totalCount"] == 1
        body = (await gql(api, headers, household, dni=doc)).json()
        assert "errors" not in body, body
        assert body["data"]["person"]["household"]["cse"] == "PE"
