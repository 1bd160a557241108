"""Fault drills (issue 7, item 6): Redis killed or hung, PostgreSQL restarted, replica down.

Each drill runs the whole site in-process against a PostgreSQL and a Redis this module starts
itself (tests/ops/conftest.py), breaks one of them mid-run and checks what citizens would see.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.deps import ReadSessionDep
from api.state import AppState
from rnu.cache import cache_for, make_redis
from rnu.config import Settings
from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import Endpoints
from rnu.migrate import upgrade
from tests.factories import create_batch, create_enrollment, create_household, create_person
from tests.ops.conftest import OwnPostgres, OwnRedis, leaks

pytestmark = pytest.mark.slow

PEOPLE = 40
SETTINGS = {
    "environment": "test",
    "lookup_per_client": 1_000_000,
    "public_per_client": 1_000_000,
    "lookup_client_failure_tiers": "1000000/3600",
    "lookup_failures_per_dni": 1_000,
}


@pytest.fixture(scope="module")
def drill_db(own_postgres: OwnPostgres) -> str:
    """A migrated database with reference data and PEOPLE enrolled citizens."""
    url = own_postgres.create_database("drills")
    upgrade(url)
    from rnu.program.service import sync_programs_sync
    from rnu.ubigeo.service import load_reference_sync

    load_reference_sync(url)
    sync_programs_sync(url)

    async def seed() -> None:
        engine = make_engine(url, pool_size=2, role="seed")
        async with make_sessionmaker(engine)() as session:
            batch = await create_batch(session, source="PENSION65", period="2026-10")
            for i in range(PEOPLE):
                household = await create_household(session, cse="PE")
                person = await create_person(
                    session,
                    household=household,
                    doc_number=f"{61_000_000 + i * 7:08d}",
                    birth_on=date(1950, 1 + i % 12, 1 + i % 28),
                    nombres="TEODORA",
                    apellido_paterno="HUAMANÍ",
                )
                await create_enrollment(session, person=person, batch=batch)
            await session.commit()
        await engine.dispose()

    asyncio.run(seed())
    return url


def people() -> list[dict[str, str]]:
    return [
        {
            "dni": f"{61_000_000 + i * 7:08d}",
            "fecha_nacimiento": date(1950, 1 + i % 12, 1 + i % 28).isoformat(),
        }
        for i in range(PEOPLE)
    ]


async def make_state(database_url: str, redis_url: str, **extra: Any) -> AppState:
    engine = make_engine(database_url, pool_size=5, role="drill")
    read_url = extra.pop("replica_url", None)
    read_engine = make_engine(read_url, pool_size=2, role="drill-read") if read_url else None
    return AppState(
        settings=Settings(**{**SETTINGS, **extra}),
        endpoints=Endpoints(database_url, redis_url, False, False),
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        redis=make_redis(redis_url),
        read_engine=read_engine,
        read_sessionmaker=make_sessionmaker(read_engine) if read_engine else None,
    )


async def site(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    from web.app import create_app

    app = create_app(state=state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await state.redis.aclose()
    await state.engine.dispose()
    if state.read_engine is not None:
        await state.read_engine.dispose()


async def lookup(client: httpx.AsyncClient, who: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post("/api/v1/consulta", json=who)
    return response.status_code, time.perf_counter() - started


async def redis_texts(redis_url: str) -> list[str]:
    client = make_redis(redis_url, timeout_s=2)
    texts = []
    try:
        async for key in client.scan_iter(count=500):
            texts.append(key.decode() if isinstance(key, bytes) else str(key))
            if await client.type(key) == b"string":
                value = await client.get(key)
                texts.append(
                    value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                )
    finally:
        await client.aclose()
    return texts


class TestRedisKilled:
    async def test_zero_5xx_served_from_postgres_and_recovers(
        self, drill_db: str, own_redis: OwnRedis
    ) -> None:
        state = await make_state(drill_db, own_redis.url)
        async for client in site(state):
            statuses: list[int] = []
            for i, who in enumerate(people()):
                if i == PEOPLE // 2:
                    own_redis.kill()  # mid-run
                statuses.append((await lookup(client, who))[0])
            assert [s for s in statuses if s >= 500] == []
            assert statuses.count(200) == PEOPLE  # the second half came from PostgreSQL
            assert cache_for(state.redis).breaker.is_open

            own_redis.start()  # same port: Redis is back
            await asyncio.sleep(cache_for(state.redis).breaker.reset_after_s + 0.2)
            for who in people()[:5]:
                assert (await lookup(client, who))[0] == 200
            assert not cache_for(state.redis).breaker.is_open
            keys = [k async for k in state.redis.scan_iter(match="rnu:*:lookup*:*")]
            assert keys, "answers are cached again once Redis returns"
            assert leaks(await redis_texts(own_redis.url)) == []


class TestRedisHung:
    async def test_latency_bounded_by_the_breaker(self, drill_db: str, own_redis: OwnRedis) -> None:
        state = await make_state(drill_db, own_redis.url)
        async for client in site(state):
            for who in people()[:3]:
                await lookup(client, who)  # warm pools
            own_redis.freeze()
            try:
                results = [await lookup(client, who) for who in people()]
            finally:
                own_redis.thaw()
            statuses = [s for s, _ in results]
            latencies = [t for _, t in results]
            assert [s for s in statuses if s >= 500] == []
            assert statuses.count(200) == PEOPLE
            # A few calls pay the 150 ms socket timeout until the breaker opens; none waits
            # longer than the guard, and the rest skip Redis altogether.
            assert max(latencies) < 1.5, max(latencies)
            assert statistics.median(latencies[5:]) < 0.25, statistics.median(latencies[5:])
            assert cache_for(state.redis).breaker.is_open


class TestPostgresRestarted:
    async def test_503_while_down_cached_answers_served_and_recovery(
        self, drill_db: str, own_redis: OwnRedis, own_postgres: OwnPostgres
    ) -> None:
        state = await make_state(drill_db, own_redis.url)
        cached, uncached = people()[0], people()[1]
        async for client in site(state):
            assert (await lookup(client, cached))[0] == 200  # now in Redis
            own_postgres.stop()
            try:
                started = time.perf_counter()
                response = await client.post("/api/v1/consulta", json=uncached)
                elapsed = time.perf_counter() - started
                assert response.status_code == 503
                body = response.json()
                assert body["error"] == "ServiceUnavailable"
                assert "Intente de nuevo" in body["mensaje"]
                assert response.headers["retry-after"]
                assert elapsed < 3.0, elapsed  # fails fast, no hanging on a dead server

                page = await client.get("/estadisticas", headers={"Accept": "text/html"})
                assert page.status_code == 503
                assert '<html lang="es">' in page.text
                assert "Servicio no disponible" in page.text

                again = await client.post("/api/v1/consulta", json=cached)
                assert again.status_code == 200, again.text  # the cached answer
                assert again.json()["programas"]

                ready = await client.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["postgres"].startswith("error")
                assert ready.json()["checks"]["redis"] == "ok"
            finally:
                own_postgres.start()
            # Same app, same engine: the pool notices the new server by itself.
            deadline = time.monotonic() + 15
            status = 0
            while time.monotonic() < deadline:
                status = (await lookup(client, uncached))[0]
                if status == 200:
                    break
                await asyncio.sleep(0.5)
            assert status == 200
            assert (await client.get("/readyz")).status_code == 200


class TestReplicaDown:
    async def test_reads_fall_back_to_the_primary(self, drill_db: str, own_redis: OwnRedis) -> None:
        from tests.ops.conftest import free_port

        dead = f"postgresql://postgres@127.0.0.1:{free_port()}/drills"  # nothing listens
        state = await make_state(drill_db, own_redis.url, replica_url=dead)
        probe = FastAPI()

        @probe.get("/who")
        async def who(session: ReadSessionDep) -> dict[str, Any]:
            row = await (await session.connection()).execute(
                text("SELECT current_setting('application_name'), count(*) FROM person")
            )
            name, count = row.one()
            return {"application": name, "people": count}

        async for client in site(state):
            app: FastAPI = client._transport.app  # type: ignore[attr-defined]
            app.router.routes[:0] = probe.router.routes  # a tiny read-only route for the drill
            first = await client.get("/who")
            assert first.status_code == 200
            assert first.json()["people"] == PEOPLE
            assert first.json()["application"].startswith("rnu-drill-")  # the primary
            assert state.replica_health.is_down
            started = time.perf_counter()
            second = await client.get("/who")
            assert second.status_code == 200
            assert time.perf_counter() - started < 0.5  # the dead replica is skipped for now
            ready = await client.get("/readyz")
            assert ready.status_code == 200  # the primary alone keeps the API ready
            assert ready.json()["checks"]["postgres_replica"].startswith("error")

    async def test_reads_use_the_replica_when_it_answers(
        self, drill_db: str, own_redis: OwnRedis
    ) -> None:
        state = await make_state(drill_db, own_redis.url, replica_url=drill_db)
        probe = FastAPI()

        @probe.get("/who")
        async def who(session: ReadSessionDep) -> dict[str, str]:
            row = await (await session.connection()).execute(
                text("SELECT current_setting('application_name')")
            )
            return {"application": str(row.scalar_one())}

        async for client in site(state):
            app: FastAPI = client._transport.app  # type: ignore[attr-defined]
            app.router.routes[:0] = probe.router.routes
            response = await client.get("/who")
            assert response.json()["application"].startswith("rnu-drill-read-")
            ready = await client.get("/readyz")
            assert ready.json()["checks"] == {
                "postgres": "ok",
                "postgres_replica": "ok",
                "redis": "ok",
            }
