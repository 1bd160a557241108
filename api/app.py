"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy import text

import rnu
from api import errors
from api.state import AppState
from rnu.cache import make_redis
from rnu.config import Settings, get_settings
from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import resolve_endpoints


def build_state(settings: Settings) -> AppState:
    endpoints = resolve_endpoints(settings)
    engine = make_engine(endpoints.database_url, pool_size=settings.db_pool_size, role="api")
    return AppState(
        settings=settings,
        endpoints=endpoints,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        redis=make_redis(endpoints.redis_url, timeout_s=settings.redis_timeout_s),
    )


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """Build the API; `state` lets tests hand in their own engine and Redis."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = state is None
        app.state.rnu = state or await asyncio.to_thread(build_state, settings or get_settings())
        try:
            yield
        finally:
            if owned:
                await app.state.rnu.redis.aclose()
                await app.state.rnu.engine.dispose()

    app = FastAPI(
        title="RNU — Registro Nacional de Usuarios",
        version=rnu.__version__,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
    )
    if state is not None:
        app.state.rnu = state
    errors.install(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers. It checks nothing else on purpose."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: PostgreSQL and Redis each answer, reported apart."""
        st: AppState = request.app.state.rnu
        checks: dict[str, Any] = {}
        try:
            async with st.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=2)
            checks["postgres"] = "ok"
        except Exception as exc:  # readiness must report, never raise
            checks["postgres"] = f"error: {type(exc).__name__}"
        try:
            await st.redis.ping()
            checks["redis"] = "ok"
        except (RedisError, OSError) as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return app
