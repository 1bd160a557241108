"""Estadísticas: coverage, filtración and subcobertura by area, as bars, tile maps and tables.

Every figure shown is one the API publishes (``usecases.public``: each read off its column's
suppression pattern); the page only arranges them. Charts are HTML text with SVG bars sized
by attributes (the CSP forbids inline styles), so labels stay at the page's font size on a
412 px phone instead of shrinking with a scaled ``viewBox``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.context import ContextDep
from rnu.errors import InvalidInput
from rnu.ubigeo.reference import department_name, departments, province_name
from usecases import public
from web import tilemap
from web.pages import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Barra:
    """One area's bar: its published value (None: reserved) and its width in % of the widest."""

    nombre: str
    codigo: str
    valor: int | None
    ancho: float


@dataclass(frozen=True)
class Distrito:
    """A district's published subcobertura, with its province for the reader's bearings."""

    codigo: str
    nombre: str
    provincia: str
    valor: int | None


def _bars(filas: list[public.Fila], column: str | None) -> list[Barra]:
    """Rows for one chart: each area's value in ``column`` (or its total)."""
    values = [(f, f.valores.get(column) if column else f.total) for f in filas]
    top = max((v or 0 for _, v in values), default=0) or 1
    return [
        Barra(nombre=f.nombre, codigo=f.codigo, valor=v, ancho=round(100 * (v or 0) / top, 1))
        for f, v in values
    ]


def _map(bars: list[Barra]) -> tilemap.TileMap:
    return tilemap.build({b.codigo: b.valor for b in bars}, {b.codigo: b.nombre for b in bars})


def _districts(filas: list[public.Fila]) -> list[Distrito]:
    """Districts with cases or a reserved figure; the others have none (zeros are published)."""
    return [
        Distrito(f.codigo, f.nombre, province_name(f.codigo[:4]), f.total)
        for f in filas
        if f.total != 0
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
    cobertura = _bars(usuarios.filas, programa)
    filtracion = _bars(public.category_totals(body.alertas, "filtracion"), None)
    subcobertura = _bars(public.category_totals(body.alertas, "subcobertura"), None)
    national = departamento is None
    distritos = (
        _districts(await public.district_subcobertura(ctx, departamento))
        if departamento and "subcobertura" in tipos
        else []
    )
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
            "cobertura": cobertura,
            "filtracion": filtracion,
            "subcobertura": subcobertura,
            "mapa_cobertura": _map(cobertura) if national else None,
            "mapa_filtracion": _map(filtracion) if national else None,
            "mapa_subcobertura": _map(subcobertura) if national else None,
            "hay_filtracion": "filtracion" in tipos,
            "hay_subcobertura": "subcobertura" in tipos,
            "distritos": distritos,
        },
        headers={"Cache-Control": "public, max-age=300"},
    )
