"""Padrón de tu distrito: department → province → district → program → masked roll."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.context import ContextDep
from rnu.errors import InvalidInput, NotFound
from rnu.period import PATTERN as PERIOD_PATTERN
from rnu.roll import service as roll_service
from rnu.ubigeo.reference import (
    by_inei,
    department_name,
    departments,
    districts_of,
    province_name,
    provinces,
)
from usecases import public
from web.pages import render

router = APIRouter(include_in_schema=False)


def _crumbs(code: str) -> list[tuple[str, str]]:
    crumbs = [("/padron", "Perú")]
    if len(code) >= 2:
        crumbs.append((f"/padron/{code[:2]}", department_name(code[:2])))
    if len(code) >= 4:
        crumbs.append((f"/padron/{code[:4]}", province_name(code[:4])))
    if len(code) >= 6:
        place = by_inei(code[:6])
        crumbs.append((f"/padron/{code[:6]}", place.distrito if place else code[:6]))
    return crumbs


def _not_found(request: Request, mensaje: str) -> HTMLResponse:
    return render(
        request,
        "padron/lugares.html",
        {
            "titulo": "Padrón de tu distrito",
            "seccion": "padron",
            "aviso": mensaje,
            "lugares": [],
            "crumbs": [("/padron", "Perú")],
            "nivel": "",
        },
        status_code=404,
    )


@router.get("/padron", response_class=HTMLResponse)
async def inicio(request: Request) -> HTMLResponse:
    lugares = [(f"/padron/{code}", name) for code, name in departments()]
    return render(
        request,
        "padron/lugares.html",
        {
            "titulo": "Padrón de tu distrito",
            "seccion": "padron",
            "lugares": lugares,
            "crumbs": [],
            "nivel": "departamento",
        },
    )


@router.get("/padron/{codigo}", response_class=HTMLResponse)
async def lugar(request: Request, codigo: str, ctx: ContextDep) -> HTMLResponse:
    if not codigo.isdigit() or len(codigo) not in (2, 4, 6):
        return _not_found(request, "No conocemos ese lugar. Elija su departamento de la lista.")
    if len(codigo) == 2:
        lugares = [(f"/padron/{code}", name) for code, name in provinces(codigo)]
        nivel = "provincia"
    elif len(codigo) == 4:
        lugares = [(f"/padron/{d.inei}", d.distrito) for d in districts_of(codigo)]
        nivel = "distrito"
    else:
        if by_inei(codigo) is None:
            return _not_found(request, "No conocemos ese distrito.")
        # Each count is its column's published cell: reserved here exactly when the
        # statistics reserve it (usecases.families), so no table gives it back.
        filas = [p.model_dump() for p in await public.district_programs(ctx, codigo)]
        return render(
            request,
            "padron/distrito.html",
            {
                "titulo": f"Padrón de {_crumbs(codigo)[-1][1]}",
                "seccion": "padron",
                "crumbs": _crumbs(codigo),
                "ubigeo": codigo,
                "programas": filas,
            },
        )
    if not lugares:
        return _not_found(request, "No conocemos ese lugar. Elija su departamento de la lista.")
    return render(
        request,
        "padron/lugares.html",
        {
            "titulo": f"Padrón de {_crumbs(codigo)[-1][1]}",
            "seccion": "padron",
            "lugares": lugares,
            "crumbs": _crumbs(codigo),
            "nivel": nivel,
        },
    )


@router.get("/padron/{ubigeo}/{programa}", response_class=HTMLResponse)
async def padron(
    request: Request,
    ubigeo: str,
    programa: str,
    ctx: ContextDep,
    q: Annotated[str | None, Query(max_length=60)] = None,
    periodo: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    pagina: Annotated[int, Query(ge=1, le=roll_service.MAX_PAGE)] = 1,
) -> HTMLResponse:
    await public.public_hit(ctx)  # RateLimited: the site's error page, with the time to wait
    try:
        body = await public.roll(
            ctx,
            programa=programa,
            ubigeo=ubigeo,
            periodo=periodo,
            q=q or None,
            page=pagina,
        )
    except (InvalidInput, NotFound):
        return _not_found(request, "No hay un padrón de ese programa en ese distrito.")
    periodos = await roll_service.periods(ctx.session, program_code=programa.upper(), ubigeo=ubigeo)
    return render(
        request,
        "padron/padron.html",
        {
            "titulo": f"{programa.upper()} en {body['distrito']}",
            "seccion": "padron",
            "crumbs": _crumbs(ubigeo),
            "p": body,
            "q": q or "",
            "periodos": periodos,
        },
        headers={"Cache-Control": "private, max-age=60"},
    )
