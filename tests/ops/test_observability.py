"""Metrics, request ids, scrubbed logs, readiness, the waiting room and cache warming."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date, datetime

import httpx
import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.observability import JsonFormatter, scrub
from api.peak import warm_lookups
from api.state import AppState
from rnu.config import Settings
from rnu.peak import LIMA, parse_schedule, today_in_lima
from tests.api.public_support import bind, make_client
from tests.factories import create_batch, create_enrollment, create_household, create_person


class TestMetrics:
    async def test_route_templates_never_raw_paths(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        await client.get("/api/v1/reportes/ABCD-EFGH-JKLM")
        await client.get("/no/such/07654321")
        body = (await client.get("/metrics")).text
        assert 'route="/healthz"' in body
        assert 'route="/api/v1/reportes/{codigo}"' in body
        assert 'route="unmatched"' in body
        assert "07654321" not in body
        assert "ABCD-EFGH" not in body
        for name in (
            "rnu_http_request_duration_seconds_bucket",
            "rnu_circuit_breaker_open",
            "rnu_cache_hit_ratio",
            "rnu_load_batches",
            "rnu_dependency_up",
        ):
            assert name in body

    async def test_request_id_returned_and_kept_when_well_formed(
        self, client: httpx.AsyncClient
    ) -> None:
        fresh = await client.get("/healthz")
        assert len(fresh.headers["x-request-id"]) == 32
        given = await client.get("/healthz", headers={"X-Request-ID": "nginx-abc12345"})
        assert given.headers["x-request-id"] == "nginx-abc12345"
        bad = await client.get("/healthz", headers={"X-Request-ID": "<script>"})
        assert bad.headers["x-request-id"] != "<script>"


class TestLogs:
    def test_json_lines_without_dnis(self) -> None:
        record = logging.LogRecord(
            "rnu.x", logging.INFO, __file__, 1, "dni %s", ("07654321",), None
        )
        line = json.loads(JsonFormatter().format(record))
        assert line["msg"] == "dni ********"
        assert {"ts", "level", "logger", "request_id"} <= set(line)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("07654321", "********"),
            ("a=07654321;", "a=********;"),
            ("123456789", "123456789"),  # not 8 digits
            ("rid 9c2e07654321ab9f", "rid 9c2e07654321ab9f"),  # inside a hex request id
        ],
    )
    def test_scrub(self, text: str, expected: str) -> None:
        assert scrub(text) == expected


class TestReadiness:
    async def test_postgres_and_redis_apart(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


class TestCohortSchedule:
    def test_parse_and_turns(self) -> None:
        schedule = parse_schedule("2026-12-01=0,1; 2026-12-02=2,3")
        assert schedule.admits("07654320", date(2026, 12, 1))
        assert not schedule.admits("07654322", date(2026, 12, 1))
        assert schedule.turn_for("07654322", date(2026, 12, 1)) == date(2026, 12, 2)
        assert schedule.turn_for("07654329", date(2026, 12, 1)) == date(2026, 12, 3)
        assert schedule.admits("07654329", date(2026, 12, 3))  # not listed: open to all

    @pytest.mark.parametrize("spec", ["2026-12-01", "2026-12-01=x", "2026-13-01=1", "d=1"])
    def test_malformed(self, spec: str) -> None:
        with pytest.raises(ValueError, match="."):
            parse_schedule(spec)

    def test_lima_day(self) -> None:
        assert today_in_lima(datetime(2026, 12, 2, 3, 0, tzinfo=LIMA).astimezone()) == date(
            2026, 12, 2
        )


class TestWaitingRoom:
    @pytest.fixture
    def gated(self, app_state: AppState) -> AppState:
        today = today_in_lima()
        settings = Settings(environment="test", peak_cohorts=f"{today.isoformat()}=0,1")
        return replace(app_state, settings=settings)

    async def test_json_names_the_day(self, gated: AppState) -> None:
        async with await make_client(gated) as client:
            response = await client.post(
                "/api/v1/consulta", json={"dni": "07654325", "fecha_nacimiento": "1970-01-01"}
            )
        assert response.status_code == 429
        body = response.json()
        assert body["error"] == "WaitingRoom"
        assert "terminan en 0 y 1" in body["mensaje"]
        assert body["turno"] > today_in_lima().isoformat()
        assert int(response.headers["retry-after"]) >= 60
        assert "07654325" not in response.text

    async def test_spanish_page_for_the_form(self, gated: AppState) -> None:
        async with await make_client(gated) as client:
            response = await client.post(
                "/consulta",
                data={"dni": "07654325", "fecha_nacimiento": "1970-01-01"},
                headers={"Accept": "text/html"},
            )
        assert response.status_code == 429
        assert '<html lang="es">' in response.text
        assert "Hoy no es su turno" in response.text

    async def test_todays_cohort_goes_through(self, gated: AppState) -> None:
        async with await make_client(gated) as client:
            response = await client.post(
                "/api/v1/consulta", json={"dni": "07654321", "fecha_nacimiento": "1970-01-01"}
            )
        assert response.status_code == 404  # served (and unknown), not sent to wait


class TestWarmCache:
    async def test_warmed_entries_are_the_ones_the_lookup_reads(
        self, app_state: AppState, session: AsyncSession
    ) -> None:
        household = await create_household(session, cse="PE")
        person = await create_person(
            session, household=household, doc_number="31415926", birth_on=date(1951, 3, 14)
        )
        await create_enrollment(session, person=person, batch=await create_batch(session))
        state = bind(app_state, session)
        assert await warm_lookups(state, limit=50) >= 1
        keys = [k async for k in state.redis.scan_iter(match="rnu:*:lookup*:*")]
        assert len(keys) >= 1
        for key in keys:  # sealed: nothing personal is readable in Redis
            raw = await state.redis.get(key) or b""
            assert b"31415926" not in raw
            assert b"QUISPE" not in raw.upper()
        # Take the enrollment away without a new data version: only the warmed entry still
        # knows it, so seeing it proves the lookup read exactly what warming wrote.
        conn = await session.connection()
        await conn.execute(text("DELETE FROM enrollment WHERE person_id = :p"), {"p": person.id})
        async with await make_client(state) as client:
            response = await client.post(
                "/api/v1/consulta", json={"dni": "31415926", "fecha_nacimiento": "1951-03-14"}
            )
        assert response.status_code == 200
        assert [p["codigo"] for p in response.json()["programas"]] == ["PENSION65"]
