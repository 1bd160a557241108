"""GET /api/v1/datos-abiertos/...: the published statistics as CSV and JSON, with a dictionary.

HTTP only: the datasets are ``usecases.public``'s (the very tables of /api/v1/estadisticas).
"""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from api.context import ContextDep
from rnu.errors import NotFound
from usecases import public
from usecases.public import DICCIONARIO, LICENCIA, catalogue

router = APIRouter(prefix="/api/v1/datos-abiertos", tags=["datos abiertos"])


@router.get("")
async def indice() -> JSONResponse:
    """The catalogue: every dataset with its CSV and JSON links, dictionary and licence."""
    return JSONResponse(catalogue(), headers={"Cache-Control": "public, max-age=3600"})


@router.get("/diccionario")
async def diccionario() -> JSONResponse:
    """The data dictionary: each field of each dataset, its type and meaning."""
    return JSONResponse({"licencia": LICENCIA, "tablas": DICCIONARIO})


@router.get("/{archivo}")
async def descargar(archivo: str, ctx: ContextDep) -> Response:
    """One dataset as `<name>.csv` (UTF-8 with BOM, opens in Excel) or `<name>.json`."""
    await public.public_hit(ctx)
    name, _, fmt = archivo.rpartition(".")
    if fmt not in ("csv", "json"):
        raise NotFound("datasets are served as .csv or .json")
    spec, rows = await public.dataset_rows(ctx, name)
    headers = {"Cache-Control": "public, max-age=300"}
    if fmt == "json":
        return JSONResponse(
            {
                "conjunto": name,
                "licencia": LICENCIA,
                "campos": DICCIONARIO[spec["tabla"]],
                "filas": rows,
            },
            headers=headers,
        )
    out = io.StringIO()
    fields = [f["campo"] for f in DICCIONARIO[spec["tabla"]]]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers
    )
