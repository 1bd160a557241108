"""Seguimiento: a tracking code → the report's status history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.context import ContextDep
from rnu.errors import NotFound, RateLimited
from usecases import citizen
from web.pages import NO_STORE, render

router = APIRouter(include_in_schema=False)


@router.get("/seguimiento", response_class=HTMLResponse)
async def seguimiento(
    request: Request,
    ctx: ContextDep,
    codigo: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    context: dict[str, object] = {
        "titulo": "Seguimiento de su reporte",
        "seccion": "seguimiento",
        "codigo": codigo or "",
        "errores": {},
    }
    status_code = 200
    if codigo:
        try:
            context["r"] = (await citizen.track(ctx, codigo)).model_dump()
        except RateLimited:
            context["aviso"] = "Hizo demasiadas consultas seguidas. Espere un minuto."
            status_code = 429
        except NotFound:
            context["errores"] = {
                "codigo": "No encontramos un reporte con ese código. Revíselo: tiene la forma "
                "RNU-XXXX-XXXX-XXXX."
            }
            status_code = 404
    return render(
        request, "seguimiento/index.html", context, status_code=status_code, headers=NO_STORE
    )
