"""One JSON error shape for every failure: a stable code, an English detail, a Spanish message.

`{"error": <code>, "detail": <English, for programs>, "mensaje": <Spanish, for people>}`.
No stack traces or SQL ever reach a client; unexpected errors are logged with their
traceback (never with personal data) and answered as a generic 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnu.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    RnuError,
    ServiceUnavailable,
    StepUpRequired,
)
from usecases.wording import STEP_UP_MESSAGE

log = logging.getLogger("rnu.api")

STATUS: dict[type[RnuError], int] = {
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


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the one error shape."""

    @app.exception_handler(RnuError)
    async def domain_error(request: Request, exc: RnuError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        name = next((cls.__name__ for cls in STATUS if isinstance(exc, cls)), "InvalidInput")
        headers = exc.headers if isinstance(exc, RateLimited | StepUpRequired) else None
        return error_response(name, str(exc), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field locations and messages only: the submitted values may be personal data.
        fields = [
            {"campo": ".".join(str(p) for p in e.get("loc", ())), "problema": e.get("type")}
            for e in exc.errors()
        ]
        body = error_body("ValidationError", "request validation failed")
        body["campos"] = fields
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "RateLimited"}.get(
            exc.status_code, "HTTPError"
        )
        return error_response(
            code, str(exc.detail), exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response("InternalError", "internal error", 500)
