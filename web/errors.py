"""The site's one Spanish error page (404, 400, 429 with the time to wait, 500, 503…).

``api.errors`` decides who gets a page (a browser asking for a site path) and calls this
renderer; API clients keep the JSON error shape. The page extends the site's layout, so an
error looks like the rest of the site and keeps its navigation.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.errors import Failure
from usecases import wording
from web.pages import templates

NO_STORE = {"Cache-Control": "no-store"}


def error_page(request: Request, failure: Failure) -> Response:
    # A validation failure (422 for programs) is a plain bad request for a person.
    status = 400 if failure.status == 422 else failure.status
    titulo, mensaje = wording.error_page(status)
    espera = wording.espera(failure.retry_after_s) if failure.retry_after_s else None
    headers = {**(failure.headers or {}), **NO_STORE}
    return templates.TemplateResponse(
        request,
        "error.html",
        {"titulo": titulo, "mensaje": mensaje, "espera": espera, "seccion": None},
        status_code=status,
        headers=headers,
    )
