"""The request middleware: the request id, the timing, the metrics and one access-log line.

Requests are labelled by their *route template* (``/api/v1/reportes/{codigo}``), never by the
raw path or query string, which can hold a tracking code or a searched name.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import time
from functools import lru_cache
from typing import Any

from api.observability.metrics import LATENCY, REQUESTS
from api.observability.request_id import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    request_id_of,
    request_id_var,
)

access_log = logging.getLogger("rnu.access")
# Probes and scrapes are counted but not logged: they would drown the access log.
_QUIET_ROUTES = frozenset({"/metrics", "/healthz", "/readyz", "/static"})


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
        rid = request_id_of(scope)
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
            observe(
                str(scope.get("method", "GET")),
                _route_template(scope),
                status_holder[0],
                time.perf_counter() - started,
            )
            request_id_var.reset(token)


@lru_cache(maxsize=4096)  # bounded like the labels: route templates × methods × statuses
def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The labelled counter and histogram of one (method, route, status)."""
    return REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)


def observe(method: str, route: str, status: int, elapsed: float) -> None:
    """Count and time one answered request by its route template, and queue its one log line
    (also called by ``api.fastpath`` for the lookups it answers itself).

    The lines are written in batches, ``FLUSH_S`` after the first one waiting (each with its
    own request id and time): one access line written on its own cost ≈ 80 µs of CPU in the
    served app against ≈ 25 µs in a batch (bench/api_speed.py, docs/performance.md). A line
    can therefore follow its request's other log lines by up to ``FLUSH_S``.
    """
    counted, timed = _series(method, route, status)
    counted.inc()
    timed.observe(elapsed)
    if route in _QUIET_ROUTES or not access_log.isEnabledFor(logging.INFO):
        return
    _pending.append((time.time(), request_id_var.get(), method, route, status, elapsed))
    global _flush_at
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no event loop: nothing would flush later
        flush_access_log()
        return
    if _flush_at is not loop:  # none scheduled on this loop (or the last loop is gone)
        _flush_at = loop
        loop.call_later(FLUSH_S, flush_access_log)


FLUSH_S = 0.02
_pending: list[tuple[float, str, str, str, int, float]] = []
_flush_at: asyncio.AbstractEventLoop | None = None  # the loop a flush is scheduled on


def flush_access_log() -> None:
    """Write the queued access lines now (a scheduled flush, shutdown, tests)."""
    global _flush_at
    _flush_at = None
    items = _pending[:]
    del _pending[:]
    for created, rid, method, route, status, elapsed in items:
        token = request_id_var.set(rid)
        try:
            record = access_log.makeRecord(
                access_log.name,
                logging.INFO,
                __file__,
                0,
                "%s %s %d %.1fms",
                (method, route, status, elapsed * 1000),
                None,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "request_id": rid,
                },
            )
            record.created, record.msecs = created, (created - int(created)) * 1000
            access_log.handle(record)
        finally:
            request_id_var.reset(token)


atexit.register(flush_access_log)
