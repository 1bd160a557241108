"""Prometheus metrics, and who may read them.

Request metrics live in the default registry (multiprocess-aware: with several uvicorn
workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before start so ``/metrics`` adds
up every worker's counters); values read at scrape time (breaker, Redis, loads) go to a
registry of their own, refreshed per scrape. Requests are labelled by route template only.
"""

from __future__ import annotations

import asyncio
import hmac
import os

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.state import AppState
from rnu.cache import cache_for
from rnu.config import Settings
from rnu.ops import repository as ops_repository

REQUESTS = Counter(
    "rnu_http_requests_total",
    "HTTP requests by route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "rnu_http_request_duration_seconds",
    "Time to answer, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_UNAVAILABLE = Counter(
    "rnu_db_unavailable_total", "Requests answered 503 because PostgreSQL could not be reached"
)
PEAK_WARMED = Counter("rnu_peak_warmed_total", "Self-lookup answers precomputed into Redis")
PEAK_WAITING = Counter(
    "rnu_peak_waiting_room_total", "Self-lookups sent to the waiting room (cohort mode)"
)


def _scrape_registry() -> tuple[CollectorRegistry, dict[str, Gauge]]:
    registry = CollectorRegistry(auto_describe=True)
    gauges = {
        "breaker": Gauge(
            "rnu_circuit_breaker_open",
            "1 while the Redis circuit breaker is open (this process)",
            ["dependency"],
            registry=registry,
        ),
        "redis_hits": Gauge(
            "rnu_cache_keyspace_hits", "Redis keyspace hits since it started", registry=registry
        ),
        "redis_misses": Gauge(
            "rnu_cache_keyspace_misses", "Redis keyspace misses since it started", registry=registry
        ),
        "hit_ratio": Gauge(
            "rnu_cache_hit_ratio",
            "Redis hits / (hits + misses) since it started",
            registry=registry,
        ),
        "batches": Gauge(
            "rnu_load_batches", "Load batches by status", ["status"], registry=registry
        ),
        "rows": Gauge(
            "rnu_load_rows",
            "Rows of committed batches by matching outcome",
            ["outcome"],
            registry=registry,
        ),
        "rows_per_s": Gauge(
            "rnu_load_rows_per_second",
            "Rows per second of the latest committed batch of each source",
            ["source"],
            registry=registry,
        ),
        "dependency_up": Gauge(
            "rnu_dependency_up",
            "1 when the dependency answered this scrape",
            ["dependency"],
            registry=registry,
        ),
    }
    return registry, gauges


async def _refresh_scrape_metrics(st: AppState, gauges: dict[str, Gauge]) -> None:
    breaker = cache_for(st.redis).breaker
    gauges["breaker"].labels("redis").set(1 if breaker.is_open else 0)
    try:
        info = await asyncio.wait_for(st.redis.info("stats"), timeout=0.5)
        hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
        gauges["redis_hits"].set(hits)
        gauges["redis_misses"].set(misses)
        gauges["hit_ratio"].set(hits / (hits + misses) if hits + misses else 0.0)
        gauges["dependency_up"].labels("redis").set(1)
    except (RedisError, OSError, TimeoutError):
        gauges["dependency_up"].labels("redis").set(0)
    try:
        async with st.sessionmaker() as session:
            stats = await asyncio.wait_for(ops_repository.load_stats(session), timeout=2)
        for status, count in stats.batches_by_status.items():
            gauges["batches"].labels(status).set(count)
        for outcome, count in stats.rows_by_outcome.items():
            gauges["rows"].labels(outcome).set(count)
        for source, rate in stats.rows_per_second_by_source.items():
            gauges["rows_per_s"].labels(source).set(rate)
        gauges["dependency_up"].labels("postgres").set(1)
    except (OSError, TimeoutError, DBAPIError, PoolTimeout):
        gauges["dependency_up"].labels("postgres").set(0)


def _request_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)


def metrics_allowed(settings: Settings, request: Request) -> bool:
    """Open outside production; in production only with ``RNU_METRICS_TOKEN`` as bearer.

    Metrics name routes, rates and load sizes: useful to someone timing an attack, so the
    internet never sees them even if a proxy rule is lost (nginx also keeps /metrics inside).
    """
    if settings.environment != "production":
        return True
    if settings.metrics_token is None:
        return False
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.get_secret_value()
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), expected.encode()
    )


def install(app: FastAPI) -> None:
    """Serve ``/metrics`` (404 where ``metrics_allowed`` says no)."""
    registry, gauges = _scrape_registry()

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: request rate and latency per route, cache, breaker, loads."""
        if not metrics_allowed(request.app.state.rnu.settings, request):
            # The same answer as any unknown path: production does not advertise /metrics.
            raise HTTPException(status_code=404)
        await _refresh_scrape_metrics(request.app.state.rnu, gauges)
        return Response(
            _request_metrics() + generate_latest(registry), media_type=CONTENT_TYPE_LATEST
        )
