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


def _bars(table: dict[str, Any], column: str | None) -> list[dict[str, Any]]:
    """Rows for one chart: each area's value in ``column`` (or its total), widest first."""
    rows = []
    for fila in table["filas"]:
        value = fila["valores"].get(column) if column else fila["total"]
        rows.append({"nombre": fila["nombre"], "codigo": fila["codigo"], "valor": value})
    top = max((r["valor"] or 0 for r in rows), default=0) or 1
    for r in rows:
        r["ancho"] = round(100 * (r["valor"] or 0) / top, 1)
    return rows


def _alert_totals(alertas: dict[str, Any], tipo: str) -> dict[str, Any]:
    """Areas × one alert category, as far as the published table tells (``category_totals``)."""
    filas = [{**row, "valores": {}} for row in public.category_totals(alertas, tipo)]
    kinds = [c["codigo"] for c in alertas["columnas"] if c.get("tipo") == tipo]
    return {"filas": filas, "columnas": kinds}


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
    usuarios = body["usuarios"]
    columnas = [c["codigo"] for c in usuarios["columnas"]]
    programa = programa if programa in columnas else None
    filtracion = _alert_totals(body["alertas"], "filtracion")
    subcobertura = _alert_totals(body["alertas"], "subcobertura")
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
            "cobertura": _bars(usuarios, programa),
            "filtracion": _bars(filtracion, None),
            "subcobertura": _bars(subcobertura, None),
            "hay_filtracion": bool(filtracion["columnas"]),
            "hay_subcobertura": bool(subcobertura["columnas"]),
        },
        headers={"Cache-Control": "public, max-age=300"},
    )
