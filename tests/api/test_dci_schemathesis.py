"""Schemathesis over the agencies' REST endpoints and GraphQL schema, on a live server.

Zero server errors; every HTTP error in the documented shape: RNU's {error, detail, mensaje}
on RNU's own endpoints, the DCI spec's shapes on /registry (``errors[{code, message}]``, or a
rejected envelope whose header has ``status: rjct``), GraphQL ``errors[]`` with an
``extensions.code`` on each at /graphql.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.agency_support import live_server, sync_agency_key

SDL = Path(__file__).resolve().parents[2] / "api" / "graphql" / "schema.graphql"
AGENCY_PATHS = ("/registry", "/api/v1/cargas", "/api/v1/verificaciones")
SCOPES = (
    "person:read",
    "person:read:sensitive",
    "coverage:read",
    "flags:read",
    "events:subscribe",
    "enrollment:write:JUNTOS",
)
EXAMPLES = 25

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(database_url: str, redis_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    key = sync_agency_key(database_url, *SCOPES)
    running, thread, url = live_server(database_url, redis_url)
    yield url, {"Authorization": f"Bearer {key}", "X-Purpose": "fiscalizacion"}
    running.should_exit = True
    thread.join(timeout=10)


def check(response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
        body = response.json()
        if "/registry" in response.url:
            errors = body.get("errors") or [{}]
            rejected = body.get("header", {}).get("status") == "rjct"
            assert rejected or str(errors[0].get("code", "")).startswith("err."), body
        elif response.request.url.path == "/graphql":
            assert body["errors"], body
            assert all(e["extensions"]["code"] for e in body["errors"]), body
        else:
            assert {"error", "detail", "mensaje"} <= set(body), body


def run_operation(operation, base_url: str, headers: dict[str, str]) -> None:
    @given(operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def explore(case) -> None:
        check(case.call(base_url=base_url, headers=headers))

    explore()


def test_rest_agency_endpoints(server) -> None:
    url, headers = server
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    operations = [
        result.ok()  # type: ignore[union-attr]  # an Err would raise here, failing the test
        for result in schema.get_all_operations()
        if result.ok().path.startswith(AGENCY_PATHS)  # type: ignore[union-attr]
    ]
    assert len(operations) >= 9
    for operation in operations:
        run_operation(operation, url, headers)


def test_graphql_schema(server) -> None:
    url, headers = server
    schema = schemathesis.graphql.from_path(SDL)
    for result in schema.get_all_operations():
        run_operation(result.ok(), f"{url}/graphql", headers)  # type: ignore[union-attr]
