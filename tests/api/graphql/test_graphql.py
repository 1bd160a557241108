"""The agencies' GraphQL API: scopes per field, audit rows, abuse limits, no N+1, the SDL."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.agency_support import SqlCounter, agency_headers
from tests.factories import (
    create_batch,
    create_enrollment,
    create_flag,
    create_household,
    create_person,
)

SDL = Path(__file__).resolve().parents[3] / "api" / "graphql" / "schema.graphql"
PERSON = """
query($doc: String!) {
  person(document: $doc) {
    dni nombres apellidoPaterno programs cse
    household { householdCode cse }
    enrollments { totalCount edges { node { programCode period program { name } } } }
  }
}
"""


async def gql(api: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: object):
    return await api.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def seed(session: AsyncSession, *, people: int = 1, enrollments: int = 1) -> list[str]:
    household = await create_household(session, cse="PE")
    batches = [
        await create_batch(session, source="JUNTOS", period=f"2026-{m:02d}")
        for m in range(1, enrollments + 1)
    ]
    documents = []
    for _ in range(people):
        person = await create_person(session, household=household)
        for batch in batches:
            await create_enrollment(session, person=person, batch=batch)
        assert person.doc_number is not None
        documents.append(person.doc_number)
    return documents


async def audit_rows(session: AsyncSession, action: str = "graphql.read") -> list[dict]:
    rows = await (await session.connection()).execute(
        text(
            "SELECT actor_kind, actor_id, purpose, subject_hmac, fields FROM audit_event "
            "WHERE action = :a ORDER BY id"
        ),
        {"a": action},
    )
    return [dict(r._mapping) for r in rows]


class TestAuthentication:
    async def test_no_key_is_401_as_graphql_errors(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/graphql", json={"query": "{ __typename }"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert set(response.json()) == {"errors"}

    async def test_introspection_needs_a_key(self, api, session) -> None:
        query = "{ __schema { queryType { name } } }"
        assert (await api.post("/graphql", json={"query": query})).status_code == 401
        headers = await agency_headers(session, "person:read")
        response = await gql(api, headers, query)
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"

    async def test_purpose_is_required(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        del headers["X-Purpose"]
        response = await gql(api, headers, "{ __typename }")
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "X-Purpose" in error["message"]

    async def test_revoked_and_rotated_keys_stop_working(self, api, session) -> None:
        from rnu.agency import service

        issued = await service.add_client(session, agency="ROTA", scopes=["person:read"])
        headers = {"Authorization": f"Bearer {issued.key}", "X-Purpose": "pago"}
        assert (await gql(api, headers, "{ __typename }")).status_code == 200
        new = await service.rotate(session, ref="ROTA")
        assert (await gql(api, headers, "{ __typename }")).status_code == 401
        headers["Authorization"] = f"Bearer {new.key}"
        assert (await gql(api, headers, "{ __typename }")).status_code == 200
        await service.revoke(session, ref="ROTA")
        assert (await gql(api, headers, "{ __typename }")).status_code == 401


class TestScopes:
    async def test_identity_scope_never_receives_a_cse(self, api, session) -> None:
        [doc] = await seed(session)
        headers = await agency_headers(session, "person:read")
        body = (await gql(api, headers, PERSON, doc=doc)).json()
        person = body["data"]["person"]
        assert person["dni"] == doc
        assert person["cse"] is None
        assert person["household"]["cse"] is None
        assert person["household"]["householdCode"]
        denied = {tuple(e["path"]) for e in body["errors"]}
        assert denied == {("person", "cse"), ("person", "household", "cse")}
        assert all("person:read:sensitive" in e["message"] for e in body["errors"])
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
        assert "'PE'" not in str(body)

    async def test_sensitive_scope_receives_the_cse(self, api, session) -> None:
        [doc] = await seed(session)
        headers = await agency_headers(session, "person:read", "person:read:sensitive")
        body = (await gql(api, headers, PERSON, doc=doc)).json()
        assert "errors" not in body
        assert body["data"]["person"]["cse"] == "PE"
        assert body["data"]["person"]["enrollments"]["totalCount"] == 1

    async def test_without_person_read_the_field_is_refused(self, api, session) -> None:
        [doc] = await seed(session)
        headers = await agency_headers(session, "coverage:read")
        body = (await gql(api, headers, PERSON, doc=doc)).json()
        assert body["data"] == {"person": None}
        [error] = body["errors"]
        assert error["path"] == ["person"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "person:read" in error["message"]

    async def test_flags_need_flags_read(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        body = (await gql(api, headers, "{ flags { totalCount } }")).json()
        assert "flags:read" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        for _ in range(3):
            await create_flag(session)
        headers = await agency_headers(session, "flags:read")
        query = "{ flags(first: 2) { totalCount edges { node { kind } } } }"
        body = (await gql(api, headers, query)).json()
        assert "errors" not in body, body
        assert body["data"]["flags"]["totalCount"] == 3
        assert [e["node"]["kind"] for e in body["data"]["flags"]["edges"]] == ["deceased"] * 2


class TestAudit:
    async def test_one_row_per_person_read_with_purpose_and_fields(self, api, session) -> None:
        docs = await seed(session, people=3)
        headers = await agency_headers(session, "person:read", purpose="pago")
        query = (
            "query($d: [String!]!) { persons(documents: $d) "
            "{ edges { node { person { dni nombres } } } } }"
        )
        response = await gql(api, headers, query, d=[*docs, "99999999"])
        assert response.status_code == 200
        rows = await audit_rows(session)
        assert len(rows) == 3
        assert {r["purpose"] for r in rows} == {"pago"}
        assert {tuple(r["fields"]) for r in rows} == {("dni", "nombres")}
        assert all(r["actor_kind"] == "agency" for r in rows)
        assert not any(doc in str(rows) for doc in docs)


class TestLimits:
    async def test_depth_20_is_refused_before_any_sql(
        self, api, session, engine: AsyncEngine
    ) -> None:
        headers = await agency_headers(session, "person:read")
        nested = "program { name }"
        for _ in range(19):
            nested = f"enrollments {{ edges {{ node {{ {nested} }} }} }}"
        query = f'{{ person(document: "01234567") {{ {nested} }} }}'
        with SqlCounter(engine) as sql:
            response = await gql(api, headers, query)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "DEPTH_LIMIT_EXCEEDED"
        assert "depth" in error["message"]
        assert sql.count == 0

    async def test_alias_limit(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        query = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
        response = await gql(api, headers, query)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "ALIAS_LIMIT_EXCEEDED"
        assert "aliases" in error["message"]

    async def test_token_limit(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        query = "{ " + " ".join("__typename" for _ in range(3000)) + " }"
        response = await gql(api, headers, query)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "TOKEN_LIMIT_EXCEEDED"
        assert "tokens" in error["message"]

    async def test_cost_limit(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        query = (
            "query($d: [String!]!) { persons(documents: $d) { edges { node { person { "
            "enrollments(first: 100) { edges { node { period program { name } } } } } } } } }"
        )
        response = await gql(api, headers, query, d=["01234567"] * 1000)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert "cost" in error["message"]

    async def test_batching_is_off(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        response = await api.post(
            "/graphql", json=[{"query": "{ __typename }"}] * 2, headers=headers
        )
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BATCHING_NOT_SUPPORTED"

    async def test_more_than_1000_documents_is_an_error(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        query = "query($d: [String!]!) { persons(documents: $d) { totalCount } }"
        body = (await gql(api, headers, query, d=["01234567"] * 1001)).json()
        assert "1000" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    async def test_errors_are_masked(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        body = (
            await gql(api, headers, '{ persons(documents: ["1"], after: "!!") { totalCount } }')
        ).json()
        assert body["errors"][0]["message"] == "invalid cursor"
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


class TestNoNPlusOne:
    QUERY = """
    query($d: [String!]!) { persons(documents: $d) { totalCount edges { node { document person {
      dni programs
      household { householdCode members(first: 50) { totalCount edges { node { dni } } } }
      enrollments(first: 50) { edges { node { period program { name latestPeriod } } } }
    } } } } }
    """

    async def count(self, api, session, engine, docs: list[str], headers) -> int:
        with SqlCounter(engine) as sql:
            response = await gql(api, headers, self.QUERY, d=docs)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        return sql.count

    async def test_statements_do_not_grow_with_people_or_enrollments(
        self, api, session, engine
    ) -> None:
        headers = await agency_headers(session, "person:read")
        small = await seed(session, people=1, enrollments=1)
        large = await seed(session, people=30, enrollments=4)
        first = await self.count(api, session, engine, small, headers)
        second = await self.count(api, session, engine, large, headers)
        assert first == second
        assert second <= 12


class TestCoverage:
    async def test_small_cells_are_suppressed(self, api, session) -> None:
        await seed(session, people=2, enrollments=1)
        headers = await agency_headers(session, "coverage:read")
        query = (
            '{ coverage(program: "JUNTOS", ubigeo: "1501", period: "2026-01") '
            "{ k total areas(first: 100) { edges { node { ubigeo count } } } } }"
        )
        body = (await gql(api, headers, query)).json()
        assert "errors" not in body, body
        cells = {
            e["node"]["ubigeo"]: e["node"]["count"]
            for e in body["data"]["coverage"]["areas"]["edges"]
        }
        assert cells["150101"] is None  # 2 people: below k


class TestSchemaFile:
    def test_committed_sdl_matches_the_code(self) -> None:
        from api.graphql.schema import schema

        assert SDL.read_text() == schema.as_str() + "\n", (
            "api/graphql/schema.graphql is stale: run "
            "`strawberry export-schema api.graphql.schema:schema "
            "--output api/graphql/schema.graphql`"
        )
