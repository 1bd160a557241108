"""GET /api/v1/estadisticas: users per program and area, integrity flags per area, suppressed.

Every published table goes through ``privacy.suppression.suppress`` with its margins: counts
1..k-1 are hidden (null), plus whatever cells would let them be recomputed from the totals.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StateDep
from api.ratelimit import ClientAddressDep, LimiterDep
from api.state import AppState
from privacy.suppression import DEFAULT_K, k_for, suppress
from rnu.cache import STATS_TTL_S, cache_for, stats_key
from rnu.stats import service as stats_service
from rnu.stats.service import CountTable

router = APIRouter(prefix="/api/v1", tags=["estadisticas"])
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}

FLAG_TEXT = {
    "deceased": "Usuario fallecido",
    "cse_not_qualifying": "Clasificación socioeconómica no califica",
    "cse_expired": "Clasificación socioeconómica vencida",
    "cse_missing": "Sin clasificación socioeconómica",
    "age_out_of_range": "Edad fuera del rango del programa",
    "duplicate_in_program": "Duplicado en el programa",
    "incompatible_programs": "Programas incompatibles",
    "household_twice": "Hogar con más de un titular",
    "not_in_pgh": "No figura en el Padrón General de Hogares",
}


class EstadisticasQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nivel: str = Field(default="departamento", pattern=r"^(departamento|provincia|distrito)$")
    padre: str | None = Field(default=None, pattern=r"^(\d{2}|\d{4})$")
    periodo: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    programa: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9_]+$")


def published(table: CountTable, k: int, labels: dict[str, str]) -> dict[str, Any]:
    """A count table with its margins after suppression; null marks a reserved cell."""
    columns = [{"codigo": c, "nombre": labels.get(c, c)} for c in table.columns]
    if not table.columns or not table.areas:
        return {"k": k, "columnas": columns, "filas": [], "totales": {}, "total_general": 0}
    result = suppress(table.grid(), k)
    rows: list[dict[str, Any]] = []
    for i, (code, name) in enumerate(table.areas):
        rows.append(
            {
                "codigo": code,
                "nombre": name,
                "valores": dict(zip(table.columns, result.cells[i], strict=True)),
                "total": result.row_totals[i] if result.row_totals else result.cells[i][0],
            }
        )
    totals = (
        dict(zip(table.columns, result.col_totals, strict=True))
        if result.col_totals
        else dict.fromkeys(table.columns)
    )
    if result.col_totals is None and len(table.areas) == 1:
        totals = dict(rows[0]["valores"])
    grand = result.grand_total
    if grand is None and result.row_totals is None and result.col_totals is not None:
        grand = result.col_totals[0]
    if grand is None and result.col_totals is None and result.row_totals is not None:
        grand = result.row_totals[0]
    return {"k": k, "columnas": columns, "filas": rows, "totales": totals, "total_general": grand}


def users_k(columns: tuple[str, ...]) -> int:
    """The table's threshold: 10 when any column is a disability or child program."""
    return max((k_for(c, touches_minors=False) for c in columns), default=DEFAULT_K)


async def stats_body(
    session: AsyncSession,
    state: AppState,
    *,
    nivel: str = "departamento",
    padre: str | None = None,
    periodo: str | None = None,
    programa: str | None = None,
) -> dict[str, Any]:
    """Both published tables for one level; cached per data version (shared by web and REST)."""
    cache = cache_for(state.redis)
    version = await state.data_version.current(session)
    key = stats_key(version, "public", nivel, padre or "-", periodo or "-", programa or "-")
    cached = await cache.get_json(key)
    if cached is not None:
        return dict(cached)
    users = await stats_service.users_by_area(
        session,
        level=nivel,
        parent=padre,
        period=periodo,
        programs=[programa.upper()] if programa else None,
    )
    flags, flag_programs = await stats_service.flags_by_area(session, level=nivel, parent=padre)
    flag_k = max((k_for(p, touches_minors=False) for p in flag_programs), default=DEFAULT_K)
    flag_labels = {
        kind: FLAG_TEXT.get(kind, kind.replace("_", " ").capitalize()) for kind in flags.columns
    }
    alertas = published(flags, flag_k, flag_labels)
    for column in alertas["columnas"]:
        column["tipo"] = (
            "subcobertura" if stats_service.is_subcobertura(column["codigo"]) else "filtracion"
        )
    body = {
        "nivel": nivel,
        "padre": padre,
        "periodos": users.periods,
        "usuarios": published(users, users_k(users.columns), users.column_names),
        "alertas": alertas,
        "nota": (
            "Los valores nulos están reservados: son menores que k o permitirían calcular uno "
            "que lo es. Los ceros se muestran."
        ),
    }
    await cache.set_json(key, body, STATS_TTL_S)
    return body


@router.get("/estadisticas")
async def estadisticas(
    params: Annotated[EstadisticasQuery, Query()],
    session: SessionDep,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """Users per program by department, province or district (each program at its latest
    period unless `periodo`), and open integrity flags (filtración and subcobertura), with
    small cells suppressed (k = 5, 10 for disability and child programs)."""
    await limiter.hit("publico", address, limit=state.settings.public_per_client, window_s=60)
    body = await stats_body(
        session,
        state,
        nivel=params.nivel,
        padre=params.padre,
        periodo=params.periodo,
        programa=params.programa,
    )
    return JSONResponse(body, headers=PUBLIC_CACHE)
