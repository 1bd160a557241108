"""Persisted queries: the allow-list of query hashes an agency registered (issue 12 item 11)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from api.graphql import persisted
from api.state import AppState
from rnu.errors import InvalidInput
from tests.api.public_support import bind, make_client
from tests.factories import create_api_client

QUERY = "query Programas { programs { totalCount } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


@pytest.fixture
async def allow_list_on(app_state: AppState, session) -> AsyncIterator[httpx.AsyncClient]:
    async with await make_client(bind(app_state, session, graphql_persisted_only=True)) as client:
        yield client


async def keyed_client(session, *scopes: str):
    client, key = await create_api_client(session, scopes=scopes or ("person:read",))
    return client, {"Authorization": f"Bearer {key}", "X-Purpose": "verificacion"}


def hashed(digest: str, query: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    }
    if query is not None:
        body["query"] = query
    return body


class TestAllowList:
    async def test_only_registered_queries_run(self, allow_list_on, session) -> None:
        client, headers = await keyed_client(session)
        refused = await allow_list_on.post("/graphql", json={"query": QUERY}, headers=headers)
        assert refused.status_code == 403
        assert codes(refused) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        row = await persisted.register(session, client=client, query=QUERY, name="programas")
        assert row.sha256 == sha(QUERY)
        ran = await allow_list_on.post("/graphql", json={"query": QUERY}, headers=headers)
        assert ran.status_code == 200, ran.text
        assert "totalCount" in ran.json()["data"]["programs"]

    async def test_the_hash_alone_runs_the_registered_text(self, allow_list_on, session) -> None:
        client, headers = await keyed_client(session)
        await persisted.register(session, client=client, query=QUERY)
        response = await allow_list_on.post("/graphql", json=hashed(sha(QUERY)), headers=headers)
        assert response.status_code == 200, response.text
        assert "programs" in response.json()["data"]

    async def test_another_clients_registration_does_not_count(
        self, allow_list_on, session
    ) -> None:
        owner, _ = await keyed_client(session)
        await persisted.register(session, client=owner, query=QUERY)
        _, headers = await keyed_client(session)
        by_text = await allow_list_on.post("/graphql", json={"query": QUERY}, headers=headers)
        assert codes(by_text) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        by_hash = await allow_list_on.post("/graphql", json=hashed(sha(QUERY)), headers=headers)
        assert by_hash.status_code == 400
        assert codes(by_hash) == ["PERSISTED_QUERY_NOT_FOUND"]

    async def test_a_hash_that_is_not_the_querys(self, allow_list_on, session) -> None:
        client, headers = await keyed_client(session)
        await persisted.register(session, client=client, query=QUERY)
        body = hashed(sha(QUERY), query="{ programs { totalCount } __typename }")
        response = await allow_list_on.post("/graphql", json=body, headers=headers)
        assert response.status_code == 400
        assert codes(response) == ["BAD_REQUEST"]

    async def test_revoked_queries_stop(self, allow_list_on, session) -> None:
        from rnu.agency import persisted as store

        client, headers = await keyed_client(session)
        await persisted.register(session, client=client, query=QUERY)
        await store.revoke(session, client_id=client.id, sha256=sha(QUERY))
        response = await allow_list_on.post("/graphql", json={"query": QUERY}, headers=headers)
        assert codes(response) == ["PERSISTED_QUERY_NOT_ALLOWED"]

    async def test_off_outside_production_by_default(self, api, session) -> None:
        _, headers = await keyed_client(session)
        response = await api.post("/graphql", json={"query": QUERY}, headers=headers)
        assert response.status_code == 200, response.text


class TestRegistration:
    async def test_a_query_is_checked_before_it_is_registered(self, session) -> None:
        client, _ = await keyed_client(session)
        for bad in ("{ nosuchfield }", "{ programs ", "query A { __typename } query B { x }"):
            with pytest.raises(InvalidInput):
                await persisted.register(session, client=client, query=bad)
        too_costly = (
            "query($d: [String!]!) { persons(documents: $d) { edges { node { person { "
            "enrollments(first: 100) { edges { node { period } } } } } } } }"
        )
        with pytest.raises(InvalidInput, match="cost"):
            await persisted.register(session, client=client, query=too_costly)

    async def test_registering_twice_keeps_one(self, session) -> None:
        from rnu.agency import persisted as store

        client, _ = await keyed_client(session)
        first = await persisted.register(session, client=client, query=QUERY)
        second = await persisted.register(session, client=client, query=QUERY)
        assert first.id == second.id
        assert len(await store.list_for(session, client_id=client.id)) == 1
