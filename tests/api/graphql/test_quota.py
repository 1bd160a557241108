"""Agency quotas count person records, not requests (issue 11 item 4)."""

from __future__ import annotations

from tests.api.agency_support import agency_headers
from tests.api.graphql.test_graphql import audit_rows, gql, seed

BATCH = "query($d: [String!]!) { %s }"
PERSONS = "persons(documents: $d) { edges { node { person { dni } } } }"


def aliased(count: int) -> str:
    return BATCH % " ".join(f"a{i}: {PERSONS}" for i in range(count))


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


class TestRecordQuota:
    async def test_fifteen_aliases_cannot_read_past_a_quota_of_two(self, api, session) -> None:
        docs = await seed(session, people=5)
        headers = await agency_headers(session, "person:read", daily_quota=2)
        response = await gql(api, headers, aliased(15), d=docs)
        assert response.status_code == 429
        assert codes(response.json()) == ["QUOTA_EXCEEDED"]
        assert int(response.headers["retry-after"]) > 0
        assert "data" not in response.json()
        assert await audit_rows(session) == []

    async def test_the_day_counts_records_returned(self, api, session) -> None:
        docs = await seed(session, people=3)
        headers = await agency_headers(session, "person:read", daily_quota=6)
        # Two aliases over the same three people: six reserved, three records charged.
        first = await gql(api, headers, aliased(2), d=docs)
        assert first.status_code == 200, first.text
        assert len(first.json()["data"]["a0"]["edges"]) == 3
        # Three left: a call that may return three runs...
        second = await gql(api, headers, aliased(1), d=docs)
        assert second.status_code == 200, second.text
        # ...and then none is left, whatever the number of requests so far (two).
        refused = await gql(api, headers, aliased(1), d=docs[:1])
        assert codes(refused.json()) == ["QUOTA_EXCEEDED"]

    async def test_unreturned_records_go_back(self, api, session) -> None:
        docs = await seed(session, people=1)
        headers = await agency_headers(session, "person:read", daily_quota=4)
        asked = [*docs, "99999990", "99999991"]
        # Each call reserves three and returns one: two go back, so a second call fits
        # (1 + 3 <= 4); without the give-back it would not (3 + 3 > 4).
        for _ in range(2):
            response = await gql(api, headers, aliased(1), d=asked)
            assert response.status_code == 200, response.text
        third = await gql(api, headers, aliased(1), d=asked)
        assert codes(third.json()) == ["QUOTA_EXCEEDED"]

    async def test_records_per_minute(self, api, session) -> None:
        docs = await seed(session, people=3)
        headers = await agency_headers(session, "person:read", records_per_minute=3)
        assert (await gql(api, headers, aliased(1), d=docs)).status_code == 200
        response = await gql(api, headers, aliased(1), d=docs[:1])
        assert response.status_code == 429
        assert "per minute" in response.json()["errors"][0]["message"]

    async def test_requests_without_people_cost_no_records(self, api, session) -> None:
        headers = await agency_headers(session, "person:read", daily_quota=1)
        for _ in range(3):
            response = await gql(api, headers, "{ programs { totalCount } }")
            assert response.status_code == 200, response.text


class TestRecordsPerCall:
    async def test_one_call_is_bounded_across_aliases(self, api, session, monkeypatch) -> None:
        import api.auth.agency as agency_auth

        monkeypatch.setattr(agency_auth, "MAX_RECORDS_PER_CALL", 4)
        docs = await seed(session, people=3)
        other = await seed(session, people=3)
        headers = await agency_headers(session, "person:read")
        query = (
            "query($d: [String!]!, $e: [String!]!) { "
            "a: persons(documents: $d) { edges { node { person { dni } } } } "
            "b: persons(documents: $e) { edges { node { person { dni } } } } }"
        )
        body = (await gql(api, headers, query, d=docs, e=other)).json()
        assert codes(body) == ["RECORD_LIMIT_EXCEEDED"]
        returned = [k for k in ("a", "b") if body["data"] and body["data"].get(k)]
        assert len(returned) <= 1
        rows = await audit_rows(session)
        assert len(rows) <= 4
