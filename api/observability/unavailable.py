"""PostgreSQL down: a clear 503 at once (JSON for programs, a Spanish page for people).

Also text PostgreSQL cannot store (a NUL character), answered here as the client's error.
"""

from __future__ import annotations

import html
import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.errors import error_body
from api.errors import wants_html as wants_html  # one rule for who gets a page
from api.observability.metrics import DB_UNAVAILABLE

log = logging.getLogger("rnu.api")

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


def is_connection_problem(exc: BaseException) -> bool:
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
    if not is_connection_problem(exc):
        raise exc  # a real bug: the catch-all 500 handler logs it
    log.warning("database unavailable: %s", type(exc).__name__)
    return unavailable_response(request)


def install(app: FastAPI) -> None:
    """Answer connection failures as 503 and unstorable text as 400, from every route."""
    for exc_class in (DBAPIError, PoolTimeout, ConnectionError, OSError):
        app.add_exception_handler(exc_class, _database_error)
