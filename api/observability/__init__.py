"""Operations plumbing: request ids, logs, Prometheus metrics, readiness and 503s.

Nothing here may carry personal data (see ``logs``). The parts:

* ``request_id``: the id of each request, in every log line and the response;
* ``access``: the middleware that times and counts each request and logs one line;
* ``metrics``: the counters, the scrape-time gauges and ``/metrics``;
* ``logs``: the formatters, the one scrubber and ``configure_logging``;
* ``unavailable``: PostgreSQL down → 503 (JSON or a Spanish page);
* ``readiness``: what ``/readyz`` reports.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.observability import metrics, unavailable
from api.observability.access import RequestContextMiddleware
from api.observability.logs import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    scrub,
    scrub_record,
)
from api.observability.metrics import DB_UNAVAILABLE, PEAK_WAITING, PEAK_WARMED, metrics_allowed
from api.observability.readiness import readiness
from api.observability.request_id import Message, Receive, Scope, Send, request_id_var
from api.observability.unavailable import is_connection_problem, spanish_page, unavailable_response

__all__ = [
    "DB_UNAVAILABLE",
    "PEAK_WAITING",
    "PEAK_WARMED",
    "JsonFormatter",
    "Message",
    "Receive",
    "RequestContextMiddleware",
    "Scope",
    "Send",
    "TextFormatter",
    "configure_logging",
    "install",
    "is_connection_problem",
    "metrics_allowed",
    "readiness",
    "request_id_var",
    "scrub",
    "scrub_record",
    "spanish_page",
    "unavailable_response",
]


def install(app: FastAPI) -> None:
    """Add the middleware, the 503 handlers and ``/metrics`` to the app."""
    app.add_middleware(RequestContextMiddleware)
    unavailable.install(app)
    metrics.install(app)
