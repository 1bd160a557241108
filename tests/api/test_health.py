"""Liveness and readiness endpoints."""

from __future__ import annotations

import httpx


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
