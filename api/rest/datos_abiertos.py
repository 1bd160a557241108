"""GET /api/v1/datos-abiertos/...: the published statistics as CSV and JSON, with a dictionary.

The downloads are the very tables of /api/v1/estadisticas (same suppression), in long format:
one line per area, program and period.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StateDep
from api.ratelimit import ClientAddressDep, LimiterDep
from api.rest.estadisticas import stats_body
from api.state import AppState
from rnu.errors import NotFound

router = APIRouter(prefix="/api/v1/datos-abiertos", tags=["datos abiertos"])

LICENCIA = {
    "nombre": "Open Data Commons Attribution License (ODC-By) v1.0",
    "url": "https://opendatacommons.org/licenses/by/1-0/",
    "atribucion": "Registro Nacional de Usuarios (RNU)",
}
DATASETS: dict[str, dict[str, str]] = {
    "usuarios-por-departamento": {"nivel": "departamento", "tabla": "usuarios"},
    "usuarios-por-provincia": {"nivel": "provincia", "tabla": "usuarios"},
    "usuarios-por-distrito": {"nivel": "distrito", "tabla": "usuarios"},
    "alertas-por-departamento": {"nivel": "departamento", "tabla": "alertas"},
    "alertas-por-provincia": {"nivel": "provincia", "tabla": "alertas"},
}
TITULOS = {
    "usuarios": "Usuarios de cada programa social por {nivel} (último periodo de cada programa)",
    "alertas": "Alertas de integridad abiertas (filtración y subcobertura) por {nivel}",
}
DICCIONARIO: dict[str, list[dict[str, str]]] = {
    "usuarios": [
        {
            "campo": "ubigeo",
            "tipo": "texto",
            "descripcion": "Código INEI del área (2, 4 o 6 dígitos).",
        },
        {
            "campo": "nombre",
            "tipo": "texto",
            "descripcion": "Nombre del departamento, provincia o distrito.",
        },
        {
            "campo": "programa",
            "tipo": "texto",
            "descripcion": "Código del programa social (JUNTOS, PENSION65, …).",
        },
        {"campo": "periodo", "tipo": "texto", "descripcion": "Periodo del padrón, AAAA-MM."},
        {
            "campo": "usuarios",
            "tipo": "entero o vacío",
            "descripcion": "Personas en el padrón del programa en el área y periodo. Vacío: "
            "reservado por secreto estadístico (menos de k, o permitiría calcular uno que lo es).",
        },
        {
            "campo": "k",
            "tipo": "entero",
            "descripcion": "Umbral de reserva: 5, o 10 en tablas con programas de niñez "
            "o discapacidad.",
        },
    ],
    "alertas": [
        {"campo": "ubigeo", "tipo": "texto", "descripcion": "Código INEI del área."},
        {"campo": "nombre", "tipo": "texto", "descripcion": "Nombre del área."},
        {
            "campo": "tipo_alerta",
            "tipo": "texto",
            "descripcion": "Código de la verificación que levantó la alerta.",
        },
        {
            "campo": "categoria",
            "tipo": "texto",
            "descripcion": "filtracion (recibe sin calificar) o subcobertura "
            "(califica y no recibe).",
        },
        {
            "campo": "alertas",
            "tipo": "entero o vacío",
            "descripcion": "Alertas abiertas o confirmadas. Vacío: reservado por "
            "secreto estadístico.",
        },
        {"campo": "k", "tipo": "entero", "descripcion": "Umbral de reserva de la tabla."},
    ],
}


def _long_rows(body: dict[str, Any], table: str) -> list[dict[str, Any]]:
    data = body[table]
    rows: list[dict[str, Any]] = []
    kinds = {c["codigo"]: c.get("tipo", "") for c in data["columnas"]}
    for fila in data["filas"]:
        for column, value in fila["valores"].items():
            if table == "usuarios":
                rows.append(
                    {
                        "ubigeo": fila["codigo"],
                        "nombre": fila["nombre"],
                        "programa": column,
                        "periodo": body["periodos"].get(column, ""),
                        "usuarios": value,
                        "k": data["k"],
                    }
                )
            else:
                rows.append(
                    {
                        "ubigeo": fila["codigo"],
                        "nombre": fila["nombre"],
                        "tipo_alerta": column,
                        "categoria": kinds.get(column, ""),
                        "alertas": value,
                        "k": data["k"],
                    }
                )
    return rows


async def dataset_rows(
    session: AsyncSession, state: AppState, name: str
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The dataset's description and its rows; NotFound for an unknown name."""
    spec = DATASETS.get(name)
    if spec is None:
        raise NotFound("no such dataset")
    body = await stats_body(session, state, nivel=spec["nivel"])
    return spec, _long_rows(body, spec["tabla"])


def catalogue() -> dict[str, Any]:
    return {
        "licencia": LICENCIA,
        "conjuntos": [
            {
                "nombre": name,
                "titulo": TITULOS[spec["tabla"]].format(nivel=spec["nivel"]),
                "csv": f"/api/v1/datos-abiertos/{name}.csv",
                "json": f"/api/v1/datos-abiertos/{name}.json",
                "diccionario": f"/api/v1/datos-abiertos/diccionario#{spec['tabla']}",
            }
            for name, spec in DATASETS.items()
        ],
    }


@router.get("")
async def indice() -> JSONResponse:
    """The catalogue: every dataset with its CSV and JSON links, dictionary and licence."""
    return JSONResponse(catalogue(), headers={"Cache-Control": "public, max-age=3600"})


@router.get("/diccionario")
async def diccionario() -> JSONResponse:
    """The data dictionary: each field of each dataset, its type and meaning."""
    return JSONResponse({"licencia": LICENCIA, "tablas": DICCIONARIO})


@router.get("/{archivo}")
async def descargar(
    archivo: str,
    session: SessionDep,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> Response:
    """One dataset as `<name>.csv` (UTF-8 with BOM, opens in Excel) or `<name>.json`."""
    await limiter.hit("publico", address, limit=state.settings.public_per_client, window_s=60)
    name, _, fmt = archivo.rpartition(".")
    if fmt not in ("csv", "json"):
        raise NotFound("datasets are served as .csv or .json")
    spec, rows = await dataset_rows(session, state, name)
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
