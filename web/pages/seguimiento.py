"""Seguimiento: a tracking code → the report's status history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, StateDep
from api.ratelimit import ClientAddressDep, LimiterDep, RateLimited
from api.rest.reportes import status_out
from rnu.errors import NotFound
from rnu.report import service as report_service
from web.pages import NO_STORE, render

router = APIRouter(include_in_schema=False)


@router.get("/seguimiento", response_class=HTMLResponse)
async def seguimiento(
    request: Request,
    session: SessionDep,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
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
            await limiter.hit(
                "seguimiento", address, limit=state.settings.public_per_client, window_s=60
            )
            status = await report_service.get_status(session, tracking_code=codigo)
            context["r"] = status_out(status).model_dump()
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
