"""One flag as JSON: its detail, and the actions on it (under /api/v1/analista/alertas/{id}).

Parsing and response shapes only; ``usecases.analyst`` does the job (the person through the
analyst's policy, the read and every action audited, each action in a savepoint).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth.analyst import AnalystApiDep
from api.deps import RowId
from api.rest.analista_cola import (
    PURPOSE_RESPONSES,
    ActionOut,
    FinalidadQuery,
    FlagOut,
    StrictModel,
    action_out,
)
from privacy.policy import PersonOut
from usecases import analyst as analyst_uc
from usecases.analyst import ActionIn, FlagAction

router = APIRouter()


class EventOut(BaseModel):
    fecha: datetime
    actor: str
    accion: str
    texto: str | None


class RowOut(BaseModel):
    archivo: str
    fila: str
    resultado: str
    metodo: str | None
    peso: float | None
    coincidencias: dict[str, Any]


class HistoryOut(BaseModel):
    programa: str
    periodo: str
    metodo: str
    peso: float | None
    coincidencias: dict[str, Any]
    archivo: str
    fila: str


class ReportOut(BaseModel):
    codigo: str
    motivo: str
    texto: str | None
    estado: str
    creado: datetime


class TaskOut(BaseModel):
    id: int
    voluntario: str
    organizacion: str | None
    estado: str
    instrucciones: str
    hallazgo: str | None
    respuesta: str | None


class FlagDetailOut(BaseModel):
    alerta: FlagOut
    evidencia: dict[str, Any]
    persona: PersonOut | None
    programas_en_el_tiempo: list[HistoryOut]
    filas: list[RowOut]
    reportes: list[ReportOut]
    historial: list[EventOut]
    tareas: list[TaskOut]


def _flag(case: analyst_uc.FlagCase) -> FlagOut:
    f = case.flag
    assert f.id is not None
    return FlagOut(
        id=f.id,
        tipo=f.kind,
        severidad=f.severity,
        estado=f.status,
        programa=f.program_code,
        periodo=f.period,
        ubigeo=f.ubigeo,
        asignado_a=f.assigned_to,
        motivo_descarte=f.dismissed_reason,
        creado=f.created_at,
        persona=case.person,
    )


def detail_out(case: analyst_uc.FlagCase) -> FlagDetailOut:
    return FlagDetailOut(
        alerta=_flag(case),
        evidencia=case.flag.evidence,
        persona=case.person,
        programas_en_el_tiempo=[
            HistoryOut(
                programa=h.program_code,
                periodo=h.period,
                metodo=h.match_method,
                peso=h.match_weight,
                coincidencias=h.agreements or {},
                archivo=h.file_name,
                fila=h.row_number,
            )
            for h in case.history
        ],
        filas=[
            RowOut(
                archivo=r.file_name,
                fila=r.row_number,
                resultado=r.outcome,
                metodo=r.method,
                peso=r.weight,
                coincidencias=r.agreements or {},
            )
            for r in case.roll_rows
        ],
        reportes=[
            ReportOut(
                codigo=r.tracking_code,
                motivo=r.reason_code,
                texto=r.text,
                estado=r.status,
                creado=r.created_at,
            )
            for r in case.reports
        ],
        historial=[
            EventOut(fecha=e.at, actor=e.actor, accion=e.action, texto=e.text) for e in case.events
        ],
        tareas=[
            TaskOut(
                id=t.id,
                voluntario=t.assignee,
                organizacion=t.organisation,
                estado=t.status,
                instrucciones=t.instructions,
                hallazgo=t.finding,
                respuesta=t.answer,
            )
            for t in case.tasks
        ],
    )


@router.get("/alertas/{flag_id}", response_model=FlagDetailOut, responses=PURPOSE_RESPONSES)
async def get_flag(
    flag_id: RowId, analyst: AnalystApiDep, finalidad: FinalidadQuery = None
) -> FlagDetailOut:
    """One flag with its evidence, the person, their programs over time, reports, history.

    ``finalidad``: why you open the person's data; without it nothing is shown (400).
    """
    return detail_out(await analyst_uc.flag_case(analyst, flag_id, purpose=finalidad))


class NoteIn(StrictModel):
    nota: str | None = Field(default=None, max_length=2000)


class ReasonIn(StrictModel):
    motivo: str = Field(max_length=2000)


class AssignIn(StrictModel):
    usuario: str | None = Field(default=None, max_length=64)


class CommentIn(StrictModel):
    texto: str = Field(max_length=2000)


class TaskIn(StrictModel):
    voluntario: str = Field(max_length=64)
    instrucciones: str = Field(max_length=2000)


async def _act(analyst: analyst_uc.Analyst, flag_id: int, action: ActionIn) -> ActionOut:
    return action_out(await analyst_uc.act(analyst, flag_id, action))


@router.post("/alertas/{flag_id}/confirmar", response_model=ActionOut)
async def confirm_flag(flag_id: RowId, body: NoteIn, analyst: AnalystApiDep) -> ActionOut:
    """Confirm a flag as a real finding."""
    return await _act(analyst, flag_id, ActionIn(FlagAction.CONFIRM, text=body.nota))


@router.post("/alertas/{flag_id}/descartar", response_model=ActionOut)
async def dismiss_flag(flag_id: RowId, body: ReasonIn, analyst: AnalystApiDep) -> ActionOut:
    """Dismiss a flag; the reason is required."""
    return await _act(analyst, flag_id, ActionIn(FlagAction.DISMISS, text=body.motivo))


@router.post("/alertas/{flag_id}/reabrir", response_model=ActionOut)
async def reopen_flag(flag_id: RowId, analyst: AnalystApiDep) -> ActionOut:
    """Put a confirmed or dismissed flag back in the open queue."""
    return await _act(analyst, flag_id, ActionIn(FlagAction.REOPEN))


@router.post("/alertas/{flag_id}/asignar", response_model=ActionOut)
async def assign_flag(flag_id: RowId, body: AssignIn, analyst: AnalystApiDep) -> ActionOut:
    """Assign a flag to a staff member (no user: unassign)."""
    return await _act(analyst, flag_id, ActionIn(FlagAction.ASSIGN, username=body.usuario))


@router.post("/alertas/{flag_id}/comentarios", response_model=ActionOut)
async def comment_flag(flag_id: RowId, body: CommentIn, analyst: AnalystApiDep) -> ActionOut:
    """Add a comment to a flag's history."""
    return await _act(analyst, flag_id, ActionIn(FlagAction.COMMENT, text=body.texto))


class TaskCreatedOut(BaseModel):
    id: int
    voluntario: str


@router.post("/alertas/{flag_id}/tareas", response_model=TaskCreatedOut, status_code=201)
async def create_task(flag_id: RowId, body: TaskIn, analyst: AnalystApiDep) -> TaskCreatedOut:
    """Ask a volunteer of the flag's district to verify it in the field."""
    done = await analyst_uc.act(
        analyst,
        flag_id,
        ActionIn(FlagAction.TASK, text=body.instrucciones, username=body.voluntario),
    )
    assert done.task_id is not None
    return TaskCreatedOut(id=done.task_id, voluntario=body.voluntario)
