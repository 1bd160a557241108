"""Operations plumbing: request ids, JSON logs, Prometheus metrics, readiness and 503s.

Nothing here may carry personal data. Requests are labelled by their *route template*
(``/api/v1/reportes/{codigo}``), never by the raw path or query string, which can hold a tracking
code or a searched name; log lines carry ids, templates, statuses and timings only, and the JSON
formatter blanks any 8-digit run (a DNI) that a careless message might still contain.

With several uvicorn workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before start so
``/metrics`` adds up every worker's counters (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import html
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
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
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.errors import error_body
from api.errors import wants_html as wants_html  # one rule for who gets a page
from api.state import AppState
from rnu.cache import cache_for
from rnu.config import Settings
from rnu.ops import repository as ops_repository

log = logging.getLogger("rnu.api")
access_log = logging.getLogger("rnu.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Hex neighbours excluded so request ids (uuid hex) stay whole; a DNI stands apart from them.
_DNI_LIKE = re.compile(r"(?<![0-9A-Fa-f])\d{8}(?![0-9A-Fa-f])")

# ---------------------------------------------------------------------------------------------
# Metrics. Request metrics live in the default registry (multiprocess-aware); values read at
# scrape time (breaker, Redis, loads) go to a registry of their own, refreshed per scrape.

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


# ---------------------------------------------------------------------------------------------
# Logs.


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        scrub_record(record)  # records made before configure_logging, or by a copied factory
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        for field in ("method", "route", "status", "duration_ms"):
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for local use, scrubbed like the JSON ones."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        scrub_record(record)
        record.request_id = request_id_var.get()
        return super().format(record)


# What the scrubber blanks. Our own messages carry ids and templates only; everything else
# (uvicorn's "Exception in ASGI application", Strawberry's error log, SQLAlchemy and asyncpg
# exception texts, tracebacks) may quote what a request sent.
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_PG_KEY_DETAIL = re.compile(r"(Key \([^)\n]*\))=\([^\n]*?\)( already exists| is not present)")
_PG_ROW_DETAIL = re.compile(r"(Failing row contains )\([^\n]*\)")
# graphql-core's str(error) appends the query text around each location ("GraphQL request:2:3"
# then numbered source lines); a query may hold a name or a DNI as a literal.
_GRAPHQL_SOURCE = re.compile(r"(GraphQL request:\d+:\d+)(?:\n[ \d]*\|[^\n]*)+")
# Quoted values in third-party text and tracebacks ("invalid value 'JUAN'"); the file names of
# traceback frames (File "/app/api/x.py") stay readable.
_QUOTED = re.compile(r"""(?<!File )("[^"\n]{1,200}"|'[^'\n]{1,200}')""")


def scrub(message: str, *, quoted: bool = False) -> str:
    """Blank what may identify a person: DNI-like runs, SQL parameters, row values in
    PostgreSQL details, GraphQL query text and, with ``quoted``, quoted values.

    The one scrubber of the process: ``configure_logging`` applies it to every log record of
    every logger (a record factory), so no handler, formatter or library can write around it.
    """
    message = _SQL_PARAMETERS.sub("[parameters: (redacted)]", message)
    message = _PG_KEY_DETAIL.sub(r"\1=(redacted)\2", message)
    message = _PG_ROW_DETAIL.sub(r"\1(redacted)", message)
    message = _GRAPHQL_SOURCE.sub(r"\1 (query text redacted)", message)
    if quoted:
        message = _QUOTED.sub(lambda m: m.group(0)[0] * 2, message)
    return _DNI_LIKE.sub("********", message)


_exception_formatter = logging.Formatter()


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render and scrub a record's message, exception and stack once, in place (idempotent).

    After this the record holds only scrubbed text (``args`` and ``exc_info`` are dropped), so
    any handler that formats it later — ours, pytest's, a library's — sees the same safe text.
    """
    if getattr(record, "_rnu_scrubbed", False):
        return record
    strict = not record.name.startswith("rnu")  # third-party text may quote a request's input
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed %-format: keep the template only
        message = str(record.msg)
    record.msg, record.args = scrub(message, quoted=strict), None
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = _exception_formatter.formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = scrub(record.exc_text, quoted=True)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info, quoted=True)
    record._rnu_scrubbed = True
    return record


def _install_scrubbing_factory() -> None:
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_rnu", False):
        return

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub_record(factory(*args, **kwargs))

    scrubbed._rnu = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(scrubbed)


# Loggers that libraries configure with handlers of their own (uvicorn's dictConfig): they are
# routed to the root handler instead, so their lines get the same format and scrubbing.
_ROUTED = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "strawberry")


def configure_logging(settings: Settings) -> None:
    """One handler on the root logger, in the configured format, for every logger (idempotent).

    ``rnu`` loggers log at ``RNU_LOG_LEVEL``; libraries at WARNING and above, plus uvicorn's
    own start/stop lines. Every record is scrubbed when it is made (``scrub_record``).
    """
    _install_scrubbing_factory()
    root = logging.getLogger()
    for logger in (root, logging.getLogger("rnu")):
        for handler in list(logger.handlers):
            if getattr(handler, "_rnu", False):
                logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler._rnu = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    rnu_logger = logging.getLogger("rnu")
    rnu_logger.setLevel(settings.log_level.upper())
    rnu_logger.propagate = True
    for name in _ROUTED:
        routed = logging.getLogger(name)
        for own in list(routed.handlers):
            routed.removeHandler(own)
        routed.propagate = True


# ---------------------------------------------------------------------------------------------
# The middleware.


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # Unmatched paths are one label: a raw path could hold anything, and labels must stay few.
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    """Give each request an id, time it, count it by route template and log one line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_holder = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = int(message["status"])
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", "GET"))
            status = status_holder[0]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if route not in _QUIET_ROUTES:
                access_log.info(
                    "%s %s %d %.1fms",
                    method,
                    route,
                    status,
                    elapsed * 1000,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
            request_id_var.reset(token)


_QUIET_ROUTES = frozenset({"/metrics", "/healthz", "/readyz", "/static"})

# ---------------------------------------------------------------------------------------------
# PostgreSQL down: a clear 503 (JSON for programs, a Spanish page for people), at once.

_PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{titulo} — Registro Nacional de Usuarios</title>
<link rel="stylesheet" href="/static/rnu.css"></head>
<body><main class="contenedor"><h1>{titulo}</h1><p>{mensaje}</p>{extra}
<p><a href="/">Volver al inicio</a></p></main></body></html>
"""


def spanish_page(
    titulo: str, mensaje: str, status: int, extra: str = "", **headers: str
) -> HTMLResponse:
    body = _PAGE.format(titulo=html.escape(titulo), mensaje=html.escape(mensaje), extra=extra)
    return HTMLResponse(body, status_code=status, headers=headers or None)


def _is_connection_problem(exc: BaseException) -> bool:
    if isinstance(exc, (OSError, TimeoutError, PoolTimeout, OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        name = type(exc.orig).__name__ if exc.orig is not None else ""
        return name in {
            "CannotConnectNowError",
            "AdminShutdownError",
            "ConnectionDoesNotExistError",
            "ConnectionFailureError",
            "InterfaceError",
            "InternalClientError",
        }
    return False


def unavailable_response(request: Request) -> Response:
    DB_UNAVAILABLE.inc()
    retry = {"Retry-After": "5", "Cache-Control": "no-store"}
    if wants_html(request):
        return spanish_page(
            "Servicio no disponible por un momento",
            "No podemos consultar el registro en este momento. Sus datos están a salvo. "
            "Intente de nuevo en unos minutos.",
            503,
            **retry,
        )
    body = error_body("ServiceUnavailable", "the database is unavailable; retry shortly")
    return JSONResponse(body, status_code=503, headers=retry)


# SQLSTATE 22021: text PostgreSQL cannot store (a NUL character). Only input carries it, from
# any field of any route, so it is answered at this one place as the client's error.
_UNSTORABLE_TEXT = "22021"


async def _database_error(request: Request, exc: Exception) -> Response:
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == _UNSTORABLE_TEXT:
        if wants_html(request):
            return spanish_page(
                "Datos no válidos",
                "El texto enviado contiene caracteres no permitidos. Revíselo e intente de nuevo.",
                400,
            )
        detail = "the request holds a character that cannot be stored (NUL)"
        return JSONResponse(error_body("InvalidInput", detail), status_code=400)
    if not _is_connection_problem(exc):
        raise exc  # a real bug: the catch-all 500 handler logs it
    log.warning("database unavailable: %s", type(exc).__name__)
    return unavailable_response(request)


# ---------------------------------------------------------------------------------------------
# Readiness.


async def _check_database(engine: Any) -> str:
    try:
        async with asyncio.timeout(2):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # readiness must report, never raise
        return f"error: {type(exc).__name__}"


async def readiness(st: AppState) -> tuple[bool, dict[str, str]]:
    """Each dependency checked apart. Ready needs PostgreSQL; Redis and the replica are
    reported but optional: without them the API still answers (slower), so it must stay in the
    load balancer."""
    checks: dict[str, str] = {}
    primary, replica = await asyncio.gather(
        _check_database(st.engine),
        _check_database(st.read_engine) if st.read_engine is not None else _none(),
    )
    checks["postgres"] = primary
    if replica is not None:
        checks["postgres_replica"] = replica
        (
            st.replica_health.record_success
            if replica == "ok"
            else st.replica_health.record_failure
        )()
    try:
        async with asyncio.timeout(0.5):
            await st.redis.ping()
        checks["redis"] = "ok"
    except (RedisError, OSError, TimeoutError) as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    return primary == "ok", checks


async def _none() -> None:
    return None


# ---------------------------------------------------------------------------------------------


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
    """Add the middleware, the 503 handlers and ``/metrics`` to the app."""
    app.add_middleware(RequestContextMiddleware)
    for exc_class in (DBAPIError, PoolTimeout, ConnectionError, OSError):
        app.add_exception_handler(exc_class, _database_error)
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
