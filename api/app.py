"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import rnu
import rnu.tables  # every table in the metadata, so foreign keys resolve when served
from api import docs, errors, fastpath, headers, observability, peak
from api.observability.access import flush_access_log
from api.state import AppState
from rnu.cache import make_redis
from rnu.config import Settings, get_settings
from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import resolve_endpoints


def build_state(settings: Settings) -> AppState:
    endpoints = resolve_endpoints(settings)
    engine = make_engine(endpoints.database_url, pool_size=settings.db_pool_size, role="api")
    read_engine = None
    if settings.database_replica_url:
        # No reachability check: a replica that is down at start is simply not used yet.
        read_engine = make_engine(
            settings.database_replica_url, pool_size=settings.db_pool_size, role="api-read"
        )
    return AppState(
        settings=settings,
        endpoints=endpoints,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        redis=make_redis(endpoints.redis_url, timeout_s=settings.redis_timeout_s),
        counters=(
            make_redis(settings.redis_counters_url, timeout_s=settings.redis_timeout_s)
            if settings.redis_counters_url
            else None
        ),
        read_engine=read_engine,
        read_sessionmaker=make_sessionmaker(read_engine) if read_engine is not None else None,
    )


def _include_staff(app: FastAPI) -> None:
    from api.auth import staff as staff_auth
    from api.rest import analista

    staff_auth.install(app)
    app.include_router(analista.router)


def _include_agency(app: FastAPI) -> None:
    from api import dci
    from api.graphql import explorer
    from api.graphql.http import make_router
    from api.rest import cargas, verificaciones

    app.include_router(make_router())
    app.include_router(explorer.router)
    for agency_router in (dci, cargas, verificaciones):
        app.include_router(agency_router.router)


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """Build the API; `state` lets tests hand in their own engine and Redis."""
    effective = state.settings if state is not None else (settings or get_settings())
    observability.configure_logging(effective)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = state is None
        app.state.rnu = state or await asyncio.to_thread(build_state, effective)
        warmer = None
        if app.state.rnu.settings.peak_warm:
            warmer = asyncio.create_task(peak.warm_after_batches(app.state.rnu))
        try:
            yield
        finally:
            flush_access_log()  # the lines still queued (api/observability/access.py)
            await fastpath.close_clients(app.state.rnu)
            if warmer is not None:
                warmer.cancel()
            if owned:
                await app.state.rnu.redis.aclose()
                if app.state.rnu.counters is not None:
                    await app.state.rnu.counters.aclose()
                await app.state.rnu.engine.dispose()
                if app.state.rnu.read_engine is not None:
                    await app.state.rnu.read_engine.dispose()

    with_docs = effective.docs_enabled()
    app = FastAPI(
        title="RNU — Registro Nacional de Usuarios",
        version=rnu.__version__,
        lifespan=lifespan,
        docs_url=None,  # api.docs serves it from local assets
        redoc_url=None,
        openapi_url=docs.OPENAPI_PATH if with_docs else None,
    )
    if with_docs:
        docs.install(app)
    if state is not None:
        app.state.rnu = state
    errors.install(app)
    headers.install(app)
    fastpath.install(app)  # in front of the whole stack: after headers.install
    observability.install(app)
    peak.install(app, effective.peak_cohorts)
    _include_staff(app)
    _include_agency(app)
    from api.rest import consulta, datos_abiertos, estadisticas, padrones, reportes

    for public_router in (consulta, padrones, reportes, estadisticas, datos_abiertos):
        app.include_router(public_router.router)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers. It checks nothing else on purpose."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: PostgreSQL, its read replica and Redis, each reported apart.

        Only the primary decides readiness; without Redis or the replica the API still answers.
        """
        ready, checks = await observability.readiness(request.app.state.rnu)
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return app
