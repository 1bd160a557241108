"""The analysts' flag queue as JSON: list, CSV export and bulk actions (under /api/v1/analista).

Parsing and response shapes only; ``usecases.analyst`` does the job (policy, audit, the
supervisor rule for bulk actions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth.analyst import AnalystApiDep, SupervisorAnalystApiDep
from privacy.policy import PersonOut
from rnu.audit.purposes import AnalystPurpose
from rnu.flag.repository import FlagFilter
from usecases import analyst as analyst_uc

router = APIRouter()


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Opening one person's data (a flag's or a review item's detail) needs a declared purpose, kept
# in the audit row the citizen's access log reads; without one: 400 PurposeRequired.
FinalidadQuery = Annotated[
    AnalystPurpose | None,
    Query(description="Why you open this person's data (required); stored in the audit."),
]
PURPOSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "No purpose (finalidad): the person's data is not shown"}
}


class FlagOut(BaseModel):
    id: int
    tipo: str
    severidad: str
    estado: str
    programa: str | None
    periodo: str | None
    ubigeo: str | None
    asignado_a: str | None
    motivo_descarte: str | None
    creado: datetime
    persona: PersonOut | None


class FlagPageOut(BaseModel):
    total: int
    pagina: int
    por_pagina: int
    paginas: int
    alertas: list[FlagOut]


class ActionOut(BaseModel):
    accion: str
    cambiadas: int
    alertas: list[int]


def action_out(done: analyst_uc.ActionDone) -> ActionOut:
    return ActionOut(accion=done.action, cambiadas=done.changed, alertas=done.flag_ids)


def query_filter(request: Request) -> FlagFilter:
    """The queue filter of a request's query parameters (other parameters are not filters)."""
    return analyst_uc.queue_filter(
        {name: request.query_params.get(name) for name in analyst_uc.FILTER_PARAMS}
    )


def _flag_out(line: analyst_uc.QueueLine) -> FlagOut:
    item = line.flag
    return FlagOut(
        id=item.id,
        tipo=item.kind,
        severidad=item.severity,
        estado=item.status,
        programa=item.program_code,
        periodo=item.period,
        ubigeo=item.ubigeo,
        asignado_a=item.assigned_to,
        motivo_descarte=item.dismissed_reason,
        creado=item.created_at,
        persona=line.person,
    )


@router.get("/alertas", response_model=FlagPageOut)
async def list_flags(
    request: Request,
    analyst: AnalystApiDep,
    orden: str = "created_at",
    desc: bool = True,
    pagina: Annotated[int, Query(ge=1)] = 1,
    por_pagina: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FlagPageOut:
    """The flag queue (citizen reports included), filtered, sorted and paginated."""
    page = await analyst_uc.queue(
        analyst,
        analyst_uc.QueueQuery(
            filters=query_filter(request),
            sort=orden,
            descending=desc,
            page=pagina,
            page_size=por_pagina,
        ),
    )
    return FlagPageOut(
        total=page.total,
        pagina=page.page,
        por_pagina=page.page_size,
        paginas=page.pages,
        alertas=[_flag_out(line) for line in page.lines],
    )


@router.get("/alertas.csv")
async def export_flags(request: Request, analyst: AnalystApiDep) -> Response:
    """The filtered set as CSV (cells defused against spreadsheet formulas)."""
    body = await analyst_uc.export_csv(analyst, query_filter(request))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="alertas.csv"',
            "Cache-Control": "no-store",
        },
    )


class BulkIn(StrictModel):
    accion: str = Field(max_length=10)
    motivo: str | None = Field(default=None, max_length=2000)
    usuario: str | None = Field(default=None, max_length=64)
    filtros: dict[str, str | None] = Field(default_factory=dict)


@router.post("/alertas/lote", response_model=ActionOut)
async def bulk_action(body: BulkIn, analyst: SupervisorAnalystApiDep) -> ActionOut:
    """Apply one action to every flag of a filtered set (supervisors and admins only)."""
    done = await analyst_uc.bulk(
        analyst,
        analyst_uc.BulkIn(
            action=body.accion,
            filters=analyst_uc.queue_filter(body.filtros, strict=True),
            reason=body.motivo,
            assignee=body.usuario,
        ),
    )
    return action_out(done)
