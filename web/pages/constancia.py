"""The citizen's constancia (PDF) and the public /verificar page that checks its code.

The PDF is not keyed by DNI: it needs the cookie the lookup result set and the form value of
that same result page (``usecases.constancia``), within minutes of the DNI + birth date check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.staff import is_secure
from api.context import ContextDep
from rnu.config import Settings
from rnu.errors import Forbidden, NotFound, RateLimited
from usecases import constancia, orientation
from usecases.context import Context
from web import constancia_pdf
from web.pages import NO_STORE, render

router = APIRouter(include_in_schema=False)

COOKIE = "rnu_constancia"
COOKIE_PATH = "/consulta"
FLOW_OVER = (
    "Para descargar la constancia, vuelva a hacer su consulta: por su seguridad, la descarga "
    "solo está disponible durante 15 minutos después de consultar, en el mismo navegador."
)
ERR_CODE = (
    "No encontramos una constancia con ese código. Revíselo: tiene la forma CON-XXXX-XXXX-XXXX."
)
ERR_LIMIT = "Hizo demasiadas verificaciones seguidas. Espere unos minutos y vuelva a intentarlo."


async def result_context(
    ctx: Context, body: dict[str, object]
) -> tuple[dict[str, object], constancia.Ticket]:
    """What the lookup result page adds for this module's partials, and the flow's ticket."""
    ticket = await constancia.open_flow(ctx, body)
    extra: dict[str, object] = {
        "constancia_form": ticket.form,
        "orientacion": {"aviso": orientation.AVISO, "alcance": orientation.ALCANCE},
    }
    return extra, ticket


def set_flow_cookie(response: Response, ticket: constancia.Ticket, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        ticket.token,
        max_age=constancia.FLOW_TTL_S,
        httponly=True,
        secure=is_secure(settings),
        samesite="strict",
        path=COOKIE_PATH,
    )


def _flow_over(request: Request, status_code: int) -> HTMLResponse:
    context = {"titulo": "Consulta tus programas", "seccion": "consulta", "errores": {}}
    return render(
        request,
        "consulta/form.html",
        context | {"aviso": FLOW_OVER},
        status_code=status_code,
        headers=NO_STORE,
    )


@router.post("/consulta/constancia", response_model=None)
async def descargar(
    request: Request,
    ctx: ContextDep,
    flujo: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        issued = await constancia.issue(ctx, token=request.cookies.get(COOKIE), form=flujo)
    except Forbidden:
        return _flow_over(request, 403)
    except NotFound:
        return _flow_over(request, 410)
    pdf = constancia_pdf.render(issued, str(request.url_for("verificar")))
    headers = NO_STORE | {
        "Content-Disposition": f'attachment; filename="constancia-{issued.codigo}.pdf"'
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/verificar", response_class=HTMLResponse, name="verificar")
async def verificar(
    request: Request,
    ctx: ContextDep,
    codigo: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    context: dict[str, object] = {
        "titulo": "Verificar una constancia",
        "seccion": "verificar",
        "codigo": codigo or "",
        "errores": {},
    }
    status_code = 200
    if codigo:
        try:
            context["v"] = (await constancia.verify(ctx, codigo)).model_dump()
        except RateLimited:
            context["aviso"] = ERR_LIMIT
            status_code = 429
        except NotFound:
            context["errores"] = {"codigo": ERR_CODE}
            status_code = 404
    return render(
        request, "verificar/index.html", context, status_code=status_code, headers=NO_STORE
    )
