"""POST /api/v1/reportes and GET /api/v1/reportes/{codigo}: report a case, follow it by code."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import CallerDep, SessionDep, StateDep
from api.ratelimit import ClientAddressDep, LimiterDep, RateLimiter
from api.rest.padrones import entry_id_of
from api.state import AppState
from privacy.roles import Caller, Role
from rnu.cache import digest
from rnu.report import service as report_service
from rnu.report.models import REASON_CODES
from rnu.report.service import ReportReceipt, ReportTarget
from rnu.roll import service as roll_service

router = APIRouter(prefix="/api/v1", tags=["reportes"])

Motivo = Literal[
    "fallecido", "no_vive_en_el_distrito", "no_es_pobre", "pensionista", "duplicado", "otro"
]
if set(get_args(Motivo)) != set(REASON_CODES):  # one list of reasons, checked at import
    raise RuntimeError("Motivo and REASON_CODES differ")

MOTIVO_TEXTO = {
    "fallecido": "La persona falleció",
    "no_vive_en_el_distrito": "No vive en el distrito",
    "no_es_pobre": "No es pobre / tiene bienes",
    "pensionista": "Recibe una pensión",
    "duplicado": "Figura dos veces",
    "otro": "Otro motivo",
}
ESTADO_TEXTO = {
    "recibido": "Recibido",
    "en_revision": "En revisión por un analista",
    "verificado": "Verificado: se tomaron medidas",
    "descartado": "Revisado: no se encontró un problema",
    "cerrado": "Cerrado",
}


class ReporteIn(BaseModel):
    """A report: a roll entry (its public id, with its program and district) or a description."""

    model_config = ConfigDict(extra="forbid")

    motivo: Motivo
    entrada: str | None = Field(default=None, min_length=16, max_length=16)
    programa: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9_]+$")
    ubigeo: str | None = Field(default=None, pattern=r"^\d{6}$")
    descripcion: str | None = Field(default=None, max_length=report_service.MAX_TEXT)
    contacto: str | None = Field(default=None, max_length=report_service.MAX_CONTACT)

    @model_validator(mode="after")
    def _entry_needs_place(self) -> ReporteIn:
        if self.entrada and not (self.programa and self.ubigeo):
            raise ValueError("entrada needs programa and ubigeo")
        return self


class ReporteCreado(BaseModel):
    codigo: str
    agrupado: bool
    mensaje: str


class PasoOut(BaseModel):
    fecha: datetime
    estado: str
    estado_texto: str


class SeguimientoOut(BaseModel):
    codigo: str
    estado: str
    estado_texto: str
    motivo: str
    motivo_texto: str
    programa: str | None
    ubigeo: str | None
    recibido: datetime
    historial: list[PasoOut]


async def file_report(
    session: AsyncSession,
    state: AppState,
    caller: Caller,
    limiter: RateLimiter,
    address: str,
    payload: ReporteIn,
) -> ReportReceipt:
    """The use case shared by REST and the web form: limit, resolve the entry, file, fold."""
    await limiter.hit("reportes", address, limit=state.settings.reports_per_client, window_s=3600)
    secret = state.settings.secret_key.get_secret_value().encode()
    programa = payload.programa.upper() if payload.programa else None
    target = ReportTarget(program_code=programa, ubigeo=payload.ubigeo)
    if payload.entrada and programa and payload.ubigeo:
        resolved = await roll_service.resolve_entry(
            session,
            program_code=programa,
            ubigeo=payload.ubigeo,
            entry_id=payload.entrada,
            entry_id_of=entry_id_of(state),
        )
        target = ReportTarget(
            program_code=programa,
            ubigeo=payload.ubigeo,
            period=resolved.period,
            entry_id=payload.entrada,
            person_id=resolved.person_id,
            enrollment_id=resolved.enrollment_id,
        )
    reporter = caller.actor_id if caller.role is Role.VOLUNTEER and caller.actor_id else address
    return await report_service.create_report(
        session,
        target=target,
        reason_code=payload.motivo,
        text=payload.descripcion,
        contact=payload.contacto,
        reporter_hmac=digest(secret, "reporter", f"{caller.role.value}:{reporter}"),
        reporter_role=caller.role.value,
    )


def status_out(status: report_service.ReportStatus) -> SeguimientoOut:
    return SeguimientoOut(
        codigo=status.tracking_code,
        estado=status.status,
        estado_texto=ESTADO_TEXTO.get(status.status, status.status),
        motivo=status.reason_code,
        motivo_texto=MOTIVO_TEXTO.get(status.reason_code, status.reason_code),
        programa=status.program_code,
        ubigeo=status.ubigeo,
        recibido=status.created_at,
        historial=[
            PasoOut(fecha=s.at, estado=s.status, estado_texto=ESTADO_TEXTO.get(s.status, s.status))
            for s in status.history
        ],
    )


@router.post("/reportes", response_model=ReporteCreado, status_code=201)
async def crear_reporte(
    payload: ReporteIn,
    session: SessionDep,
    state: StateDep,
    caller: CallerDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """Report a possible filtración. Point at a roll entry by its public `entrada` id (never a
    DNI) with its `programa` and `ubigeo`, or describe the case. Answer: a tracking code."""
    receipt = await file_report(session, state, caller, limiter, address, payload)
    body = ReporteCreado(
        codigo=receipt.tracking_code,
        agrupado=receipt.folded,
        mensaje=(
            "Ya habíamos recibido este reporte suyo; lo sumamos al anterior."
            if receipt.folded
            else "Recibimos su reporte. Guarde el código para seguir su estado."
        ),
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=200 if receipt.folded else 201,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/reportes/{codigo}", response_model=SeguimientoOut)
async def seguimiento(
    codigo: str,
    session: SessionDep,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """The status history of a report, by its tracking code (dashes and case do not matter)."""
    await limiter.hit("seguimiento", address, limit=state.settings.public_per_client, window_s=60)
    status = await report_service.get_status(session, tracking_code=codigo[:40])
    return JSONResponse(
        status_out(status).model_dump(mode="json"), headers={"Cache-Control": "no-store"}
    )
