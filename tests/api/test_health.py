"""Liveness and readiness endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from api.state import AppState
from rnu.config import Settings
from rnu.db import make_sessionmaker
from rnu.embedded import Endpoints
from web.app import create_app


@pytest.fixture
async def client(
    engine: AsyncEngine, redis: Redis, database_url: str, redis_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    state = AppState(
        settings=Settings(),
        endpoints=Endpoints(database_url, redis_url, False, False),
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        redis=redis,
    )
    app = create_app(state=state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class TestHealth:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_checks_postgres_and_redis(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "redis": "ok"}}

    async def test_home_page_is_spanish(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        assert '<html lang="es">' in response.text
        assert "Registro Nacional de Usuarios" in response.text
