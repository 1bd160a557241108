"""One JSON error shape for every failure: a stable code, an English detail, a Spanish message.

`{"error": <code>, "detail": <English, for programs>, "mensaje": <Spanish, for people>}`.
No stack traces or SQL ever reach a client; unexpected errors are logged with their
traceback (never with personal data) and answered as a generic 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnu.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PurposeRequired,
    RateLimited,
    RnuError,
    ServiceUnavailable,
    StepUpRequired,
)
from usecases.wording import PURPOSE_REQUIRED, STEP_UP_MESSAGE

log = logging.getLogger("rnu.api")

# Most specific first: a subclass is rendered under its own code.
STATUS: dict[type[RnuError], int] = {
    PurposeRequired: 400,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 400,
    Forbidden: 403,
    RateLimited: 429,
    StepUpRequired: 428,
    ServiceUnavailable: 503,
}

MENSAJES: dict[str, str] = {
    "NotFound": "No encontramos lo que busca.",
    "Conflict": "La operación no se puede realizar porque los datos cambiaron.",
    "InvalidInput": "Los datos enviados no son válidos. Revíselos e intente de nuevo.",
    "Forbidden": "No tiene permiso para realizar esta acción.",
    "ServiceUnavailable": "El servicio no está disponible en este momento. "
    "Intente de nuevo en unos minutos.",
    "ValidationError": "Algunos datos enviados no son válidos. Revise los campos indicados.",
    "RateLimited": "Realizó demasiadas consultas. Espere unos minutos e intente de nuevo.",
    "StepUpRequired": STEP_UP_MESSAGE,
    "PurposeRequired": PURPOSE_REQUIRED,
    "Unauthorized": "Debe identificarse para realizar esta acción.",
    "InternalError": "Ocurrió un error inesperado. Ya lo estamos revisando.",
    "HTTPError": "No se pudo atender su solicitud.",
}


def error_body(code: str, detail: str, **extra: object) -> dict[str, object]:
    return {"error": code, "detail": detail, "mensaje": MENSAJES.get(code, MENSAJES["HTTPError"])}


def error_response(
    code: str, detail: str, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, detail), status_code=status, headers=headers)


@dataclass(frozen=True)
class Failure:
    """One failed request, before it is rendered as JSON (programs) or HTML (people)."""

    status: int
    code: str
    detail: str
    headers: dict[str, str] | None = None
    retry_after_s: int | None = None


HtmlRenderer = Callable[[Request, Failure], Response]
"""Renders a failure as a Spanish page; the site (``web.errors``) installs the one renderer."""


def wants_html(request: Request) -> bool:
    """People (browsers on site pages) get Spanish HTML; API clients get the JSON shape."""
    path = request.url.path
    if path.startswith(("/api/", "/graphql", "/registry/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _answer(request: Request, failure: Failure, body: dict[str, object] | None = None) -> Response:
    render: HtmlRenderer | None = getattr(request.app.state, "error_html", None)
    if render is not None and wants_html(request):
        return render(request, failure)
    return JSONResponse(
        body if body is not None else error_body(failure.code, failure.detail),
        status_code=failure.status,
        headers=failure.headers,
    )


def _retry_after(headers: dict[str, str] | None) -> int | None:
    value = (headers or {}).get("Retry-After", "")
    return int(value) if value.isdigit() else None


def use_html(app: FastAPI, html: HtmlRenderer) -> None:
    """Answer browsers' failures with this Spanish page renderer (the site installs one)."""
    app.state.error_html = html


def install(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    """Register the handlers that turn every exception into the one error shape.

    With ``html``, a browser asking for a site page gets that renderer's Spanish page instead.
    """
    if html is not None:
        use_html(app, html)

    @app.exception_handler(RnuError)
    async def domain_error(request: Request, exc: RnuError) -> Response:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        name = next((cls.__name__ for cls in STATUS if isinstance(exc, cls)), "InvalidInput")
        headers = exc.headers if isinstance(exc, RateLimited | StepUpRequired) else None
        retry = exc.retry_after_s if isinstance(exc, RateLimited) else None
        return _answer(request, Failure(status, name, str(exc), headers, retry))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        # Field locations and messages only: the submitted values may be personal data.
        fields = [
            {"campo": ".".join(str(p) for p in e.get("loc", ())), "problema": e.get("type")}
            for e in exc.errors()
        ]
        body = error_body("ValidationError", "request validation failed")
        body["campos"] = fields
        return _answer(request, Failure(422, "ValidationError", "request validation failed"), body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "RateLimited"}.get(
            exc.status_code, "HTTPError"
        )
        headers = getattr(exc, "headers", None)
        failure = Failure(exc.status_code, code, str(exc.detail), headers, _retry_after(headers))
        return _answer(request, failure)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(request, Failure(500, "InternalError", "internal error"))
