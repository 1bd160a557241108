"""Estadísticas: coverage, filtración and subcobertura by area, as bar charts with tables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.context import ContextDep
from rnu.errors import InvalidInput
from rnu.ubigeo.reference import department_name, departments
from usecases import public
from web.pages import render

router = APIRouter(include_in_schema=False)


def _bars(filas: list[public.Fila], column: str | None) -> list[dict[str, Any]]:
    """Rows for one chart: each area's value in ``column`` (or its total), widest first."""
    values = [(f, f.valores.get(column) if column else f.total) for f in filas]
    top = max((v or 0 for _, v in values), default=0) or 1
    return [
        {
            "nombre": f.nombre,
            "codigo": f.codigo,
            "valor": v,
            "ancho": round(100 * (v or 0) / top, 1),
        }
        for f, v in values
    ]


@router.get("/estadisticas", response_class=HTMLResponse)
async def estadisticas(
    request: Request,
    ctx: ContextDep,
    departamento: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    programa: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    nivel = "provincia" if departamento else "departamento"
    try:
        body = await public.statistics(ctx, nivel=nivel, padre=departamento)
    except InvalidInput:
        body = await public.statistics(ctx)
        departamento = None
    usuarios = body.usuarios
    programa = programa if programa in {c.codigo for c in usuarios.columnas} else None
    tipos = {c.tipo for c in body.alertas.columnas}
    return render(
        request,
        "estadisticas/index.html",
        {
            "titulo": "Estadísticas",
            "seccion": "estadisticas",
            "body": body,
            "nivel": nivel,
            "departamento": departamento,
            "departamento_nombre": department_name(departamento) if departamento else "Perú",
            "departamentos": departments(),
            "programa": programa,
            "cobertura": _bars(usuarios.filas, programa),
            "filtracion": _bars(public.category_totals(body.alertas, "filtracion"), None),
            "subcobertura": _bars(public.category_totals(body.alertas, "subcobertura"), None),
            "hay_filtracion": "filtracion" in tipos,
            "hay_subcobertura": "subcobertura" in tipos,
        },
        headers={"Cache-Control": "public, max-age=300"},
    )
