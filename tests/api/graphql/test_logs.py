"""GraphQL errors carry no DNI or query text into the logs (issue 11 item 15)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.api.agency_support import agency_headers
from tests.api.graphql.test_graphql import gql, seed

DNI = "73125846"


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # message, arguments and any traceback


@pytest.fixture
def logged() -> Iterator[list[str]]:
    handler = _Keep()
    loggers = [logging.getLogger(n) for n in ("", "rnu", "strawberry", "strawberry.execution")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.lines
    for logger in loggers:
        logger.removeHandler(handler)


class TestNoPersonalDataInLogs:
    async def test_request_field_and_unexpected_errors(
        self, api, session, logged: list[str], monkeypatch
    ) -> None:
        [doc] = await seed(session)
        headers = await agency_headers(session, "coverage:read")
        by_variable = "query($d: String!) { person(document: $d) { dni } }"
        literal = f'{{ person(document: "{doc}") {{ dni nombres }} }}'
        # A variable of the wrong type: graphql-core's message quotes the value.
        await gql(api, headers, by_variable, d=int(DNI))
        # A field refused for want of a scope, the document inline in the query text.
        await gql(api, headers, literal)
        # An unexpected error whose text holds the DNI.
        from rnu.person import service as person_service

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"lookup failed for {DNI}")

        monkeypatch.setattr(person_service, "get_by_documents", broken)
        headers = await agency_headers(session, "person:read")
        body = (await gql(api, headers, literal)).json()
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert DNI not in str(body)
        text = "\n".join(logged)
        assert "INTERNAL_SERVER_ERROR" in text  # the failure is logged, by its code
        assert DNI not in text
        assert doc not in text
        assert "person(document" not in text
