"""The MIDIS analysts' JSON API: session, flag queue, match review and dashboard.

Every route needs a live staff session (analyst, supervisor or admin) and, when it changes
anything, the session's CSRF token in ``X-CSRF-Token``. People leave through
``privacy.policy.person_out`` with the analyst caller; reads are audited by the services.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth.login import FAILED, attempt_login, set_device_cookie, throttled
from api.auth.staff import (
    SESSION_COOKIE,
    StaffApiDep,
    SupervisorApiDep,
    actor_for,
    clear_session_cookie,
    set_session_cookie,
)
from api.deps import CallerDep, RowId, SecretDep, SessionDep, SettingsDep
from api.errors import error_response
from privacy.policy import PersonOut, PersonView, person_out
from privacy.roles import Caller
from rnu.audit import service as audit
from rnu.dashboard import service as dashboard_service
from rnu.errors import InvalidInput
from rnu.flag import service as flag_service
from rnu.flag.repository import FlagFilter
from rnu.person.models import Household, Person
from rnu.review import service as review_service
from rnu.staff import service as staff_service
from rnu.staff import volunteer as volunteer_service
from rnu.staff.models import ACCOUNT_ROLES

router = APIRouter(prefix="/api/v1/analista", tags=["analistas"])


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(StrictModel):
    usuario: str = Field(max_length=64)
    contrasena: str = Field(max_length=256)
    # The 6-digit TOTP code: required of supervisors and admins (rnu/staff/totp.py).
    codigo: str = Field(default="", max_length=12)


class SessionOut(BaseModel):
    usuario: str
    rol: str
    csrf_token: str


def person_view(
    secret: bytes,
    person: Person,
    *,
    household: Household | None = None,
    programs: tuple[str, ...] = (),
) -> PersonView:
    """The privacy layer's view of a registry person (shared with the analyst pages)."""
    return PersonView.build(
        secret,
        person_key=person.pgh_key or f"id:{person.id}",
        dni=person.doc_number if person.doc_type == "DNI" else None,
        nombres=person.nombres,
        apellido_paterno=person.apellido_paterno,
        apellido_materno=person.apellido_materno,
        birth_date=person.birth_on,
        sex=person.sex,
        ubigeo=person.ubigeo,
        programs=programs,
        cse=household.cse if household else None,
        cse_valid_to=household.cse_valid_to if household else None,
        household_code=household.pgh_code if household else None,
    )


def item_person(secret: bytes, item: flag_service.FlagItem, caller: Caller) -> PersonOut | None:
    if item.person_id is None:
        return None
    view = PersonView.build(
        secret,
        person_key=item.pgh_key or f"id:{item.person_id}",
        dni=item.dni,
        nombres=item.nombres,
        apellido_paterno=item.apellido_paterno,
        apellido_materno=item.apellido_materno,
        birth_date=None,
        sex=None,
        ubigeo=item.ubigeo,
    )
    return person_out(view, caller)


# ---------------------------------------------------------------------------------------------
# Session


@router.post("/sesion", response_model=SessionOut)
async def login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Log in; sets a fresh session cookie and returns the CSRF token for later requests.

    JSON only: a cross-site page cannot send a JSON body without a CORS preflight, which is
    what makes this form of login safe from login CSRF.
    """
    if not request.headers.get("content-type", "").startswith("application/json"):
        return error_response("InvalidInput", "send the login as application/json", 415)
    attempt = await attempt_login(
        request,
        session,
        username=body.usuario,
        password=body.contrasena,
        code=body.codigo,
        roles=frozenset(ACCOUNT_ROLES),
    )
    if attempt.retry_after_s is not None:
        return JSONResponse(
            {
                "error": "RateLimited",
                "detail": "too many failed logins; retry after the Retry-After seconds",
                "mensaje": throttled(attempt.retry_after_s),
            },
            status_code=429,
            headers={"Retry-After": str(attempt.retry_after_s), "Cache-Control": "no-store"},
        )
    user = attempt.user
    if user is None:
        return JSONResponse(
            {
                "error": "Unauthorized",
                "detail": "wrong username, password or code",
                "mensaje": FAILED,
            },
            status_code=401,
        )
    new = await staff_service.open_session(
        session, user=user, previous_token=request.cookies.get(SESSION_COOKIE)
    )
    active = staff_service.ActiveSession(user=user, csrf_token=new.csrf_token, token_hash="")
    await audit.record(session, actor=actor_for(active), action="session.login")
    response = JSONResponse(
        SessionOut(usuario=user.username, rol=user.role, csrf_token=new.csrf_token).model_dump()
    )
    set_session_cookie(response, new, settings)
    set_device_cookie(response, attempt.device_cookie, settings)
    return response


@router.get("/sesion", response_model=SessionOut)
async def whoami(active: StaffApiDep) -> SessionOut:
    """The logged-in analyst and the CSRF token to send with changes."""
    return SessionOut(
        usuario=active.user.username, rol=active.user.role, csrf_token=active.csrf_token
    )


@router.delete("/sesion", status_code=204)
async def logout(
    request: Request, active: StaffApiDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Log out: the session ends at once, server-side."""
    await staff_service.close_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = Response(status_code=204)
    clear_session_cookie(response, settings)
    return response


# ---------------------------------------------------------------------------------------------
# Flag queue


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


def filters_from(
    tipo: str | None = None,
    programa: str | None = None,
    periodo: str | None = None,
    departamento: str | None = None,
    provincia: str | None = None,
    distrito: str | None = None,
    severidad: str | None = None,
    estado: str | None = None,
    asignado: str | None = None,
) -> FlagFilter:
    """Query parameters (Spanish, as the pages use them) to a queue filter."""

    def clean(value: str | None) -> str | None:
        return value.strip() or None if value else None

    return FlagFilter(
        kind=clean(tipo),
        program_code=clean(programa),
        period=clean(periodo),
        department=clean(departamento),
        province=clean(provincia),
        district=clean(distrito),
        severity=clean(severidad),
        status=clean(estado),
        assigned_to=clean(asignado),
    )


def _flag_out(secret: bytes, item: flag_service.FlagItem, caller: Caller) -> FlagOut:
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
        persona=item_person(secret, item, caller),
    )


@router.get("/alertas", response_model=FlagPageOut)
async def list_flags(
    request: Request,
    active: StaffApiDep,
    session: SessionDep,
    secret: SecretDep,
    caller: CallerDep,
    orden: str = "created_at",
    desc: bool = True,
    pagina: Annotated[int, Query(ge=1)] = 1,
    por_pagina: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FlagPageOut:
    """The flag queue (citizen reports included), filtered, sorted and paginated."""
    filters = filters_from(**_filter_params(request))
    page = await flag_service.list_queue(
        session,
        actor=actor_for(active),
        secret=secret,
        filters=filters,
        sort=orden,
        descending=desc,
        page=pagina,
        page_size=por_pagina,
    )
    return FlagPageOut(
        total=page.total,
        pagina=page.page,
        por_pagina=page.page_size,
        paginas=page.pages,
        alertas=[_flag_out(secret, i, caller) for i in page.items],
    )


FILTER_PARAMS = (
    "tipo",
    "programa",
    "periodo",
    "departamento",
    "provincia",
    "distrito",
    "severidad",
    "estado",
    "asignado",
)


def _filter_params(request: Request) -> dict[str, str | None]:
    return {name: request.query_params.get(name) for name in FILTER_PARAMS}


@router.get("/alertas.csv")
async def export_flags(
    request: Request, active: StaffApiDep, session: SessionDep, secret: SecretDep
) -> Response:
    """The filtered set as CSV (cells defused against spreadsheet formulas)."""
    body = await flag_service.export_csv(
        session,
        actor=actor_for(active),
        secret=secret,
        filters=filters_from(**_filter_params(request)),
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="alertas.csv"',
            "Cache-Control": "no-store",
        },
    )


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


def detail_out(secret: bytes, detail: flag_service.FlagDetail, caller: Caller) -> FlagDetailOut:
    f = detail.flag
    person = (
        person_out(
            person_view(
                secret, detail.person, household=detail.household, programs=detail.programs
            ),
            caller,
        )
        if detail.person
        else None
    )
    assert f.id is not None
    return FlagDetailOut(
        alerta=FlagOut(
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
            persona=person,
        ),
        evidencia=f.evidence,
        persona=person,
        programas_en_el_tiempo=[
            HistoryOut(
                programa=h["program_code"],
                periodo=h["period"],
                metodo=h["match_method"],
                peso=h["match_weight"],
                coincidencias=h["agreements"] or {},
                archivo=h["file_name"],
                fila=h["row_number"],
            )
            for h in detail.history
        ],
        filas=[
            RowOut(
                archivo=r["file_name"],
                fila=r["row_number"],
                resultado=r["outcome"],
                metodo=r["method"],
                peso=r["weight"],
                coincidencias=r["agreements"] or {},
            )
            for r in detail.roll_rows
        ],
        reportes=[
            ReportOut(
                codigo=r.tracking_code,
                motivo=r.reason_code,
                texto=r.text,
                estado=r.status,
                creado=r.created_at,
            )
            for r in detail.reports
        ],
        historial=[
            EventOut(fecha=e.at, actor=e.actor, accion=e.action, texto=e.text)
            for e in detail.events
        ],
        tareas=[
            TaskOut(
                id=t["id"],
                voluntario=t["assignee"],
                organizacion=t["organisation"],
                estado=t["status"],
                instrucciones=t["instructions"],
                hallazgo=t["finding"],
                respuesta=t["answer"],
            )
            for t in detail.tasks
        ],
    )


@router.get("/alertas/{flag_id}", response_model=FlagDetailOut)
async def get_flag(
    flag_id: RowId, active: StaffApiDep, session: SessionDep, secret: SecretDep, caller: CallerDep
) -> FlagDetailOut:
    """One flag with its evidence, the person, their programs over time, reports, history."""
    detail = await flag_service.get_detail(
        session, actor=actor_for(active), secret=secret, flag_id=flag_id
    )
    return detail_out(secret, detail, caller)


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


class ActionOut(BaseModel):
    accion: str
    cambiadas: int
    alertas: list[int]


def _action_out(result: flag_service.ActionResult) -> ActionOut:
    return ActionOut(accion=result.action, cambiadas=result.changed, alertas=result.flag_ids)


@router.post("/alertas/{flag_id}/confirmar", response_model=ActionOut)
async def confirm_flag(
    flag_id: RowId, body: NoteIn, active: StaffApiDep, session: SessionDep
) -> ActionOut:
    """Confirm a flag as a real finding."""
    return _action_out(
        await flag_service.confirm(
            session, actor=actor_for(active), flag_ids=[flag_id], note=body.nota
        )
    )


@router.post("/alertas/{flag_id}/descartar", response_model=ActionOut)
async def dismiss_flag(
    flag_id: RowId, body: ReasonIn, active: StaffApiDep, session: SessionDep
) -> ActionOut:
    """Dismiss a flag; the reason is required."""
    return _action_out(
        await flag_service.dismiss(
            session, actor=actor_for(active), flag_ids=[flag_id], reason=body.motivo
        )
    )


@router.post("/alertas/{flag_id}/reabrir", response_model=ActionOut)
async def reopen_flag(flag_id: RowId, active: StaffApiDep, session: SessionDep) -> ActionOut:
    """Put a confirmed or dismissed flag back in the open queue."""
    return _action_out(
        await flag_service.reopen(session, actor=actor_for(active), flag_ids=[flag_id])
    )


@router.post("/alertas/{flag_id}/asignar", response_model=ActionOut)
async def assign_flag(
    flag_id: RowId, body: AssignIn, active: StaffApiDep, session: SessionDep
) -> ActionOut:
    """Assign a flag to a staff member (no user: unassign)."""
    return _action_out(
        await flag_service.assign(
            session, actor=actor_for(active), flag_ids=[flag_id], assignee=body.usuario
        )
    )


@router.post("/alertas/{flag_id}/comentarios", response_model=ActionOut)
async def comment_flag(
    flag_id: RowId, body: CommentIn, active: StaffApiDep, session: SessionDep
) -> ActionOut:
    """Add a comment to a flag's history."""
    return _action_out(
        await flag_service.comment(
            session, actor=actor_for(active), flag_id=flag_id, text=body.texto
        )
    )


class TaskCreatedOut(BaseModel):
    id: int
    voluntario: str


@router.post("/alertas/{flag_id}/tareas", response_model=TaskCreatedOut, status_code=201)
async def create_task(
    flag_id: RowId, body: TaskIn, active: StaffApiDep, session: SessionDep
) -> TaskCreatedOut:
    """Ask a volunteer of the flag's district to verify it in the field."""
    task = await volunteer_service.create_task(
        session,
        actor=actor_for(active),
        flag_id=flag_id,
        volunteer=body.voluntario,
        instructions=body.instrucciones,
    )
    assert task.id is not None
    return TaskCreatedOut(id=task.id, voluntario=body.voluntario)


class BulkIn(StrictModel):
    accion: str = Field(max_length=10)
    motivo: str | None = Field(default=None, max_length=2000)
    usuario: str | None = Field(default=None, max_length=64)
    filtros: dict[str, str | None] = Field(default_factory=dict)


@router.post("/alertas/lote", response_model=ActionOut)
async def bulk_action(body: BulkIn, active: SupervisorApiDep, session: SessionDep) -> ActionOut:
    """Apply one action to every flag of a filtered set (supervisors and admins only)."""
    unknown = set(body.filtros) - set(FILTER_PARAMS)
    if unknown:
        raise InvalidInput(f"unknown filters: {', '.join(sorted(unknown))}")
    result = await flag_service.bulk(
        session,
        actor=actor_for(active),
        filters=filters_from(**body.filtros),
        action=body.accion,
        reason=body.motivo,
        assignee=body.usuario,
    )
    return _action_out(result)


# ---------------------------------------------------------------------------------------------
# Match review


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
    active: StaffApiDep,
    session: SessionDep,
    secret: SecretDep,
    programa: str | None = None,
    pagina: Annotated[int, Query(ge=1)] = 1,
) -> ReviewPageOut:
    """Rows matching could not decide on, oldest first."""
    page = await review_service.list_queue(
        session, actor=actor_for(active), secret=secret, program_code=programa, page=pagina
    )
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


@router.get("/revision/{item_id}", response_model=ReviewDetailOut)
async def get_review(
    item_id: RowId, active: StaffApiDep, session: SessionDep, secret: SecretDep, caller: CallerDep
) -> ReviewDetailOut:
    """The row beside its candidates, with field-level agreements."""
    d = await review_service.get_detail(
        session, actor=actor_for(active), secret=secret, item_id=item_id
    )
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
                clave=c.person.pgh_key,
                peso=c.weight,
                persona=person_out(person_view(secret, c.person, household=c.household), caller),
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
async def decide_review(
    item_id: RowId, body: DecisionIn, active: StaffApiDep, session: SessionDep, secret: SecretDep
) -> DecisionOut:
    """Link the row to a candidate, make it a new person, or mark it distinct; applies now."""
    result = await review_service.decide(
        session,
        actor=actor_for(active),
        secret=secret,
        item_id=item_id,
        decision=body.decision,
        person_key=body.persona,
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


class DashboardOut(BaseModel):
    periodos: dict[str, str]
    cse_vence_hasta: date
    filas: list[DashboardRowOut]
    totales: list[DashboardRowOut]


def _dash_row(r: dashboard_service.DashboardRow) -> DashboardRowOut:
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
    active: StaffApiDep,
    session: SessionDep,
    programa: str | None = None,
    departamento: str | None = None,
) -> DashboardOut:
    """Per program and department: users, flags, filtración rate, subcobertura, expiring CSE."""
    board = await dashboard_service.build(
        session, today=date.today(), program_code=programa, department=departamento
    )
    return DashboardOut(
        periodos=board.periods,
        cse_vence_hasta=board.expiring_until,
        filas=[_dash_row(r) for r in board.rows],
        totales=[_dash_row(r) for r in board.totals()],
    )
