"""Match review and the dashboard as JSON (under /api/v1/analista/revision and /tablero).

Parsing and response shapes only; ``usecases.analyst`` does the job (candidates through the
analyst's policy, reads and decisions audited, a decision in a savepoint).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth.analyst import AnalystApiDep
from api.deps import RowId
from api.rest.analista_cola import PURPOSE_RESPONSES, FinalidadQuery, StrictModel
from privacy.policy import PersonOut
from usecases import analyst as analyst_uc

router = APIRouter()


class ReviewItemOut(BaseModel):
    id: int
    programa: str
    periodo: str
    archivo: str
    fila: str
    nombre: str
    documento: str | None
    ubigeo: str | None
    candidatos: int
    mejor_peso: float | None


class ReviewPageOut(BaseModel):
    total: int
    pagina: int
    paginas: int
    items: list[ReviewItemOut]


@router.get("/revision", response_model=ReviewPageOut)
async def list_review(
    analyst: AnalystApiDep,
    programa: str | None = None,
    pagina: Annotated[int, Query(ge=1)] = 1,
) -> ReviewPageOut:
    """Rows matching could not decide on, oldest first."""
    page = await analyst_uc.review_queue(analyst, program_code=programa, page=pagina)
    return ReviewPageOut(
        total=page.total,
        pagina=page.page,
        paginas=page.pages,
        items=[
            ReviewItemOut(
                id=i.id,
                programa=i.program_code,
                periodo=i.period,
                archivo=i.file_name,
                fila=i.row_number,
                nombre=i.full_name,
                documento=i.doc_number,
                ubigeo=i.ubigeo,
                candidatos=i.candidates,
                mejor_peso=i.best_weight,
            )
            for i in page.items
        ],
    )


class CandidateOut(BaseModel):
    clave: str | None
    peso: float
    persona: PersonOut
    coincidencias: dict[str, str]
    resaltado: dict[str, str]


class ReviewDetailOut(BaseModel):
    id: int
    estado: str
    programa: str
    periodo: str
    registro: dict[str, Any]
    candidatos: list[CandidateOut]


@router.get("/revision/{item_id}", response_model=ReviewDetailOut, responses=PURPOSE_RESPONSES)
async def get_review(
    item_id: RowId, analyst: AnalystApiDep, finalidad: FinalidadQuery = None
) -> ReviewDetailOut:
    """The row beside its candidates, with field-level agreements.

    ``finalidad``: why you open these people's data; without it nothing is shown (400).
    """
    d = await analyst_uc.review_case(analyst, item_id, purpose=finalidad)
    row = d.row
    return ReviewDetailOut(
        id=item_id,
        estado=d.item.status,
        programa=d.batch.source,
        periodo=d.batch.period,
        registro={
            "archivo": d.batch.file_name,
            "fila": row.row_number,
            "tipo_documento": row.doc_type,
            "documento": row.doc_number,
            "nombre_completo": row.full_name,
            "nombres": row.nombres,
            "apellido_paterno": row.apellido_paterno,
            "apellido_materno": row.apellido_materno,
            "fecha_nacimiento": row.birth_on.isoformat() if row.birth_on else None,
            "sexo": row.sex,
            "ubigeo": row.ubigeo,
        },
        candidatos=[
            CandidateOut(
                clave=c.key,
                peso=c.weight,
                persona=c.person,
                coincidencias=c.agreements,
                resaltado={k: c.highlight(k) for k in c.agreements},
            )
            for c in d.candidates
        ],
    )


class DecisionIn(StrictModel):
    decision: str = Field(max_length=12)
    persona: str | None = Field(default=None, max_length=40)


class DecisionOut(BaseModel):
    decision: str
    persona_id: int
    inscripcion_id: int | None
    controles_reejecutados: bool


@router.post("/revision/{item_id}/decision", response_model=DecisionOut)
async def decide_review(item_id: RowId, body: DecisionIn, analyst: AnalystApiDep) -> DecisionOut:
    """Link the row to a candidate, make it a new person, or mark it distinct; applies now."""
    result = await analyst_uc.decide(
        analyst, item_id, analyst_uc.DecisionIn(decision=body.decision, person_key=body.persona)
    )
    return DecisionOut(
        decision=result.decision,
        persona_id=result.person_id,
        inscripcion_id=result.enrollment_id,
        controles_reejecutados=result.checks_rerun,
    )


# ---------------------------------------------------------------------------------------------
# Dashboard


class DashboardRowOut(BaseModel):
    programa: str
    periodo: str
    departamento: str
    nombre_departamento: str
    usuarios: int
    alertas_por_tipo: dict[str, int]
    alertas_por_estado: dict[str, int]
    personas_con_filtracion: int
    tasa_filtracion: float | None
    subcobertura_estimada: int | None
    cse_por_vencer_90_dias: int


class TrendOut(BaseModel):
    periodo: str
    alertas_por_tipo: dict[str, int]


class DashboardOut(BaseModel):
    periodos: dict[str, str]
    cse_vence_hasta: date
    ambito: str
    filas: list[DashboardRowOut]
    totales: list[DashboardRowOut]
    tendencia: list[TrendOut]


def _dash_row(r: analyst_uc.DashboardRow) -> DashboardRowOut:
    return DashboardRowOut(
        programa=r.program_code,
        periodo=r.period,
        departamento=r.department,
        nombre_departamento=r.department_name,
        usuarios=r.users,
        alertas_por_tipo=r.flags_by_kind,
        alertas_por_estado=r.flags_by_status,
        personas_con_filtracion=r.filtracion_people,
        tasa_filtracion=r.filtracion_rate,
        subcobertura_estimada=r.subcobertura,
        cse_por_vencer_90_dias=r.cse_expiring,
    )


@router.get("/tablero", response_model=DashboardOut)
async def dashboard(
    analyst: AnalystApiDep,
    programa: str | None = None,
    departamento: str | None = None,
    provincia: str | None = None,
    periodo: str | None = None,
) -> DashboardOut:
    """Per program and department: users, flags, filtración rate, subcobertura, expiring CSE;
    ``tendencia``: flags per kind over the latest periods of the same program and place."""
    board = await analyst_uc.dashboard(
        analyst,
        program_code=programa,
        department=departamento,
        province=provincia,
        period=periodo,
    )
    return DashboardOut(
        periodos=board.periods,
        cse_vence_hasta=board.expiring_until,
        ambito=board.place_name,
        filas=[_dash_row(r) for r in board.rows],
        totales=[_dash_row(r) for r in board.totals()],
        tendencia=[TrendOut(periodo=t.period, alertas_por_tipo=t.by_kind) for t in board.trend],
    )
