"""No DNI, name, query text or SQL parameter reaches a log line, whoever logs it (issue 11.15).

The app runs on a real uvicorn server in JSON log mode. Three requests fail with a person's DNI
and surname inside: an exception whose message quotes them (uvicorn logs "Exception in ASGI
application" with the traceback), a SQL error carrying them as a parameter (SQLAlchemy prints
``[parameters: …]``), and a GraphQL query holding them as a literal (Strawberry logs the error,
and graphql-core's text of it quotes the query). Every line written must be JSON and clean.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep
from api.observability import scrub, scrub_record
from api.state import AppState
from tests.api.agency_support import agency_headers
from tests.api.live_server import served
from tests.api.public_support import bind

DNI = "41234567"
SURNAME = "ZAPATOCAÑAS"


def _app(state: AppState) -> FastAPI:
    from web.app import create_app

    app = create_app(state=state)

    @app.get("/prueba/excepcion")
    async def excepcion() -> None:
        raise ValueError(f"no se pudo leer '{SURNAME} {DNI}'")

    @app.get("/prueba/sql")
    async def sql(session: SessionDep) -> None:
        conn = await session.connection()
        await conn.execute(text("SELECT CAST(:v AS integer)"), {"v": f"{SURNAME} {DNI}"})

    return app


def _leaks(output: str) -> list[str]:
    return [line for line in output.splitlines() if DNI in line or SURNAME in line.upper()]


async def test_every_logger_writes_scrubbed_json(
    app_state: AppState, session: AsyncSession, capsys: pytest.CaptureFixture[str]
) -> None:
    state = bind(app_state, session, log_format="json")
    headers = await agency_headers(session, "person:read")
    async with served(state, _app(state)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            assert (await client.get("/prueba/excepcion")).status_code == 500
            assert (await client.get("/prueba/sql")).status_code == 500
            query = f'{{ person(document: "{DNI} {SURNAME}") {{ campoQueNoExiste }} }}'
            graphql = await client.post("/graphql", json={"query": query}, headers=headers)
            assert graphql.status_code in (200, 400)
    output = capsys.readouterr().err
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    entries = [json.loads(line) for line in lines]  # every line is JSON, uvicorn's too
    loggers = {entry["logger"] for entry in entries}
    assert "uvicorn.error" in loggers
    # The GraphQL query is refused by validation before it runs (api/graphql/http.py) and
    # GraphQL errors are logged by code and path only (rnu.graphql): Strawberry logs nothing.
    assert "strawberry.execution" not in loggers
    assert graphql.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert any("Exception in ASGI application" in entry["msg"] for entry in entries)
    assert any("[parameters: (redacted)]" in entry.get("exc", "") for entry in entries)
    assert _leaks(output) == []


def test_records_are_scrubbed_once_for_every_handler() -> None:
    record = logging.LogRecord(
        "strawberry.execution", logging.ERROR, __file__, 1, "valor %s", (f"'{DNI}'",), None
    )
    scrub_record(record)
    assert record.getMessage() == "valor ''"
    assert scrub_record(record).getMessage() == "valor ''"  # idempotent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "[SQL: SELECT $1]\n[parameters: ('JUAN', '41234567')]",
            "[SQL: SELECT $1]\n[parameters: (redacted)]",
        ),
        (
            "DETAIL:  Key (doc_number)=(JUAN 41234567) already exists.",
            "DETAIL:  Key (doc_number)=(redacted) already exists.",
        ),
        (
            'Cannot query field.\n\nGraphQL request:1:3\n1 | { person(document: "X") }\n  |   ^',
            "Cannot query field.\n\nGraphQL request:1:3 (query text redacted)",
        ),
        ('  File "/app/api/x.py", line 3, in f', '  File "/app/api/x.py", line 3, in f'),
    ],
)
def test_scrub_patterns(raw: str, expected: str) -> None:
    assert scrub(raw, quoted=True) == expected
