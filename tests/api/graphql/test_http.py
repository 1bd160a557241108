"""GraphQL over HTTP: media types, status codes, codes on every error, operation choice, cost
read by argument name, empty pages, and no 503 when one field fails beside another."""

from __future__ import annotations

import httpx
import pytest

from api.observability import DB_UNAVAILABLE
from tests.api.agency_support import agency_headers
from tests.api.graphql.test_graphql import gql, seed

RESPONSE_MEDIA = "application/graphql-response+json"
JSON_MEDIA = "application/json"
ENROLLMENTS = "enrollments(first: 100) { edges { node { period program { name } } } }"


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


class TestMediaTypes:
    @pytest.mark.parametrize(
        ("accept", "chosen"),
        [
            (None, RESPONSE_MEDIA),
            ("*/*", RESPONSE_MEDIA),
            ("application/json", JSON_MEDIA),
            (f"{RESPONSE_MEDIA}, {JSON_MEDIA};q=0.9", RESPONSE_MEDIA),
            (f"{RESPONSE_MEDIA};q=0.5, {JSON_MEDIA}", JSON_MEDIA),
            ("text/html", None),
            (f"{RESPONSE_MEDIA};q=0", None),
        ],
    )
    def test_accept_is_honoured(self, accept: str | None, chosen: str | None) -> None:
        from api.graphql.http import choose_media_type

        assert choose_media_type(accept) == chosen

    async def test_response_carries_the_negotiated_type(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        for accept, media in ((RESPONSE_MEDIA, RESPONSE_MEDIA), (JSON_MEDIA, JSON_MEDIA)):
            response = await api.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers=headers | {"Accept": accept},
            )
            assert response.status_code == 200
            assert response.headers["content-type"] == f"{media}; charset=utf-8"
            assert response.json() == {"data": {"__typename": "Query"}}

    async def test_unacceptable_accept_is_406(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        response = await api.post(
            "/graphql", json={"query": "{ __typename }"}, headers=headers | {"Accept": "text/csv"}
        )
        assert response.status_code == 406
        assert codes(response.json()) == ["NOT_ACCEPTABLE"]

    async def test_other_content_type_is_415(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        response = await api.post(
            "/graphql",
            content="{ __typename }",
            headers=headers | {"Content-Type": "application/graphql"},
        )
        assert response.status_code == 415
        assert codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


class TestRequestErrors:
    """Refusals are GraphQL errors; 4xx with graphql-response+json, 200 with plain JSON."""

    CASES = [
        ("{ person(document: ", "GRAPHQL_PARSE_FAILED"),
        ("{ nosuchfield }", "GRAPHQL_VALIDATION_FAILED"),
        ("query A { __typename } query B { __typename }", "OPERATION_RESOLUTION_FAILURE"),
    ]

    @pytest.mark.parametrize(("query", "code"), CASES)
    async def test_request_errors(self, api, session, query: str, code: str) -> None:
        headers = await agency_headers(session, "person:read")
        strict = await api.post("/graphql", json={"query": query}, headers=headers)
        assert strict.status_code == 400
        assert strict.headers["content-type"].startswith(RESPONSE_MEDIA)
        assert codes(strict.json()) == [code]
        assert "data" not in strict.json()
        legacy = await api.post(
            "/graphql", json={"query": query}, headers=headers | {"Accept": JSON_MEDIA}
        )
        assert legacy.status_code == 200
        assert codes(legacy.json()) == [code]

    async def test_two_operations_without_a_name(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        query = "query A { __typename } query B { programs { totalCount } }"
        body = (await api.post("/graphql", json={"query": query}, headers=headers)).json()
        assert body["errors"][0]["message"] == (
            "Must provide operation name if query contains multiple operations."
        )
        named = {"query": query, "operationName": "A"}
        response = await api.post("/graphql", json=named, headers=headers)
        assert response.json() == {"data": {"__typename": "Query"}}
        unknown = {"query": query, "operationName": "C"}
        body = (await api.post("/graphql", json=unknown, headers=headers)).json()
        assert codes(body) == ["OPERATION_RESOLUTION_FAILURE"]

    async def test_variables_of_the_wrong_type(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        query = "query($d: String!) { person(document: $d) { ref } }"
        response = await gql(api, headers, query, d=12345678)
        assert response.status_code == 400
        assert codes(response.json()) == ["BAD_USER_INPUT"]

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            (b"NONSENSE", "BAD_REQUEST"),
            (b'{"qeury": "{ __typename }"}', "BAD_REQUEST"),
            (b'{"query": "{ __typename }", "variables": [7]}', "BAD_REQUEST"),
            (b'[{"query": "{ __typename }"}]', "BATCHING_NOT_SUPPORTED"),
        ],
    )
    async def test_malformed_requests_are_400(self, api, session, body: bytes, code: str) -> None:
        headers = await agency_headers(session, "person:read")
        for accept in (RESPONSE_MEDIA, JSON_MEDIA):
            response = await api.post(
                "/graphql",
                content=body,
                headers=headers | {"Content-Type": "application/json", "Accept": accept},
            )
            assert response.status_code == 400
            assert codes(response.json()) == [code]

    async def test_get_is_not_for_queries(self, api) -> None:
        response = await api.get("/graphql", params={"query": "{ __typename }"})
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]


class TestCost:
    async def test_argument_order_does_not_change_the_cost(self, api, session) -> None:
        headers = await agency_headers(session, "person:read")
        docs = ["01234567"] * 1000
        for args in ("documents: $d, first: 10", "first: 10, documents: $d"):
            query = (
                f"query($d: [String!]!) {{ persons({args}) {{ totalCount edges {{ node {{ "
                f"person {{ {ENROLLMENTS} }} }} }} }} }}"
            )
            response = await gql(api, headers, query, d=docs)
            assert response.status_code == 200, (args, response.text)
            assert response.json()["data"]["persons"]["totalCount"] == 1000
        for args in ("documents: $d, first: 1000", "first: 1000, documents: $d"):
            query = (
                f"query($d: [String!]!) {{ persons({args}) {{ edges {{ node {{ "
                f"person {{ {ENROLLMENTS} }} }} }} }} }}"
            )
            response = await gql(api, headers, query, d=docs)
            assert codes(response.json()) == ["COST_LIMIT_EXCEEDED"], args

    async def test_first_zero_returns_an_empty_page(self, api, session) -> None:
        docs = await seed(session, people=3)
        headers = await agency_headers(session, "person:read")
        query = (
            "query($d: [String!]!) { persons(documents: $d, first: 0) "
            "{ totalCount edges { node { person { dni } } } pageInfo { hasNextPage } } }"
        )
        body = (await gql(api, headers, query, d=docs)).json()
        assert "errors" not in body, body
        assert body["data"]["persons"] == {
            "totalCount": 3,
            "edges": [],
            "pageInfo": {"hasNextPage": True},
        }


class TestFieldErrorBesideAnother:
    async def test_negative_first_is_a_field_error_not_a_503(self, api, session) -> None:
        docs = await seed(session, people=2)
        headers = await agency_headers(session, "person:read", "flags:read")
        query = (
            "query($d: [String!]!) { "
            "persons(documents: $d, first: -5) { totalCount } "
            "programs { totalCount edges { node { code latestPeriod } } } "
            "flags { totalCount } }"
        )
        before = DB_UNAVAILABLE._value.get()
        for _ in range(3):
            response = await gql(api, headers, query, d=docs)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["data"] is None
            assert codes(body) == ["BAD_USER_INPUT"]
            assert "first must be between 0 and 1000" in body["errors"][0]["message"]
        assert DB_UNAVAILABLE._value.get() == before
        after = await gql(api, headers, "{ programs { totalCount } }")
        assert after.status_code == 200
        assert "errors" not in after.json()


class TestEveryErrorHasACode:
    async def test_field_and_request_errors(self, api: httpx.AsyncClient, session) -> None:
        headers = await agency_headers(session, "coverage:read")
        queries = [
            '{ person(document: "01234567") { dni } }',
            '{ coverage(program: "JUNTOS", ubigeo: "1") { total } }',
            '{ programs(after: "!!") { totalCount } }',
            "{ __typename",
        ]
        for query in queries:
            body = (await gql(api, headers, query)).json()
            assert body["errors"], query
            assert all(e["extensions"]["code"] for e in body["errors"]), body
