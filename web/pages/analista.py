"""Analyst pages under /analista: login, flag queue, flag detail and actions, review, dashboard.

Server-rendered and usable without JavaScript. Every form that changes something carries the
session's CSRF token (checked by ``api.auth.staff.RequireSession``); the login form carries a
double-submit token instead. Errors from the services are shown in Spanish next to the form.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.auth.login import FAILED, attempt_login, set_device_cookie, throttled
from api.auth.staff import (
    SESSION_COOKIE,
    NotAllowed,
    OptionalSessionDep,
    StaffPageDep,
    actor_for,
    clear_session_cookie,
    issue_login_csrf,
    login_csrf_ok,
    login_csrf_token,
    set_session_cookie,
)
from api.deps import CallerDep, RowId, SecretDep, SessionDep, SettingsDep
from api.rest.analista import FILTER_PARAMS, filters_from, item_person, person_view
from privacy.policy import person_out
from rnu.audit import service as audit
from rnu.dashboard import service as dashboard_service
from rnu.errors import RnuError
from rnu.flag import service as flag_service
from rnu.review import service as review_service
from rnu.staff import repository as staff_repository
from rnu.staff import service as staff_service
from rnu.staff import volunteer as volunteer_service
from rnu.staff.models import STAFF_ROLES
from rnu.ubigeo.reference import by_inei, departments
from web.pages import NO_STORE, render

router = APIRouter(include_in_schema=False)

TIPOS = {
    "cse_not_qualifying": "CSE no califica",
    "cse_expired": "CSE vencida",
    "cse_missing": "Sin CSE",
    "age_out_of_range": "Edad fuera del rango",
    "deceased": "Fallecido",
    "not_in_pgh": "No está en el PGH",
    "duplicate_in_program": "Duplicado en el programa",
    "incompatible_programs": "Programas incompatibles",
    "household_twice": "Hogar dos veces",
    "pgh_duplicate": "Posible duplicado en el PGH",
    "citizen_report": "Reporte ciudadano",
}
ESTADOS = {
    "open": "Abierta",
    "confirmed": "Confirmada",
    "dismissed": "Descartada",
    "resolved": "Resuelta",
}
SEVERIDADES = {"high": "Alta", "medium": "Media", "low": "Baja"}
ACCIONES = {
    "confirm": "Confirmó",
    "dismiss": "Descartó",
    "assign": "Asignó",
    "comment": "Comentó",
    "reopen": "Reabrió",
    "task": "Pidió verificación",
    "task_answer": "Respuesta de campo",
}
CAMPOS = {
    "paterno": "Apellido paterno",
    "materno": "Apellido materno",
    "swapped": "Orden de apellidos",
    "nombres": "Nombres",
    "birth_date": "Fecha de nacimiento",
    "sex": "Sexo",
    "ubigeo": "Ubigeo",
    "document": "Documento",
}
DECISIONES = {"link": "Vincular", "new_person": "Persona nueva", "distinct": "Distinta"}


def lugar(ubigeo: str | None) -> str:
    district = by_inei(ubigeo) if ubigeo else None
    if district is None:
        return ubigeo or ""
    province, department = district.provincia.title(), district.departamento.title()
    return f"{district.distrito.title()} ({province}, {department})"


def mensaje(exc: RnuError) -> str:
    """A service error as a Spanish sentence for staff (the English detail in brackets)."""
    return f"No se pudo completar la acción: {exc}."


def _safe_next(value: str | None, area: str) -> str:
    # Only paths inside the area: an absolute URL here would be an open redirect.
    if value and value.startswith(f"/{area}") and not value.startswith("//"):
        return value
    return f"/{area}"


def _context(
    request: Request, active: staff_service.ActiveSession | None, **extra: Any
) -> dict[str, Any]:
    return {
        "usuario": active.user if active else None,
        "csrf": active.csrf_token if active else "",
        "tipos": TIPOS,
        "estados": ESTADOS,
        "severidades": SEVERIDADES,
        "acciones": ACCIONES,
        "lugar": lugar,
        **extra,
    }


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    return render(request, name, context, status_code=status_code, headers=NO_STORE)


# ---------------------------------------------------------------------------------------------
# Login, shared by the analysts' and volunteers' areas


async def login_form(
    request: Request,
    settings: Any,
    *,
    area: str,
    template: str,
    error: str | None = None,
    status_code: int = 200,
    username: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = login_csrf_token(request)
    response = page(
        request,
        template,
        {
            "titulo": "Ingresar",
            "error": error,
            "usuario_escrito": username,
            "siguiente": _safe_next(request.query_params.get("siguiente"), area),
            "csrf_ingreso": token,
        },
        status_code=status_code,
    )
    response.headers.update(headers or {})
    issue_login_csrf(request, response, settings, token)
    return response


async def login_submit(
    request: Request,
    session: Any,
    settings: Any,
    *,
    area: str,
    template: str,
    roles: frozenset[str],
    usuario: str,
    contrasena: str,
    csrf_token: str,
    siguiente: str | None,
    codigo: str = "",
) -> Response:
    if not login_csrf_ok(request, csrf_token):
        return await login_form(
            request,
            settings,
            area=area,
            template=template,
            error="La página de ingreso venció. Vuelva a escribir sus datos.",
            status_code=400,
        )
    attempt = await attempt_login(
        request, session, username=usuario, password=contrasena, code=codigo, roles=roles
    )
    if attempt.retry_after_s is not None:
        return await login_form(
            request,
            settings,
            area=area,
            template=template,
            error=throttled(attempt.retry_after_s),
            status_code=429,
            username=usuario,
            headers={"Retry-After": str(attempt.retry_after_s)},
        )
    user = attempt.user
    if user is None:
        return await login_form(
            request,
            settings,
            area=area,
            template=template,
            error=FAILED,
            status_code=401,
            username=usuario,
        )
    new = await staff_service.open_session(
        session, user=user, previous_token=request.cookies.get(SESSION_COOKIE)
    )
    active = staff_service.ActiveSession(user=user, csrf_token=new.csrf_token, token_hash="")
    await audit.record(session, actor=actor_for(active), action="session.login")
    response = RedirectResponse(_safe_next(siguiente, area), status_code=303)
    set_session_cookie(response, new, settings)
    set_device_cookie(response, attempt.device_cookie, settings)
    return response


async def logout(request: Request, session: Any, settings: Any, target: str) -> Response:
    await staff_service.close_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(target, status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.get("/analista/ingresar", response_class=HTMLResponse)
async def ingresar(request: Request, settings: SettingsDep) -> HTMLResponse:
    return await login_form(request, settings, area="analista", template="analista/ingresar.html")


@router.post("/analista/ingresar")
async def ingresar_enviar(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    usuario: Annotated[str, Form(max_length=64)] = "",
    contrasena: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    siguiente: Annotated[str | None, Form(max_length=500)] = None,
    codigo: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    return await login_submit(
        request,
        session,
        settings,
        codigo=codigo,
        area="analista",
        template="analista/ingresar.html",
        roles=frozenset(STAFF_ROLES),
        usuario=usuario,
        contrasena=contrasena,
        csrf_token=csrf_token,
        siguiente=siguiente,
    )


@router.post("/analista/salir")
async def salir(
    request: Request, active: StaffPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    return await logout(request, session, settings, "/analista/ingresar")


# ---------------------------------------------------------------------------------------------
# Queue


def _filter_values(request: Request) -> dict[str, str]:
    return {k: v for k in FILTER_PARAMS if (v := request.query_params.get(k, "").strip())}


@router.get("/analista", response_class=HTMLResponse)
async def cola(
    request: Request,
    active: StaffPageDep,
    session: SessionDep,
    secret: SecretDep,
    caller: CallerDep,
    orden: str = "created_at",
    desc: bool = True,
    pagina: int = 1,
    aviso: str | None = None,
) -> HTMLResponse:
    values = _filter_values(request)
    if "estado" not in request.query_params:
        values["estado"] = "open"
    error = None
    try:
        result = await flag_service.list_queue(
            session,
            actor=actor_for(active),
            secret=secret,
            filters=filters_from(**values),
            sort=orden,
            descending=desc,
            page=pagina,
            page_size=50,
        )
    except RnuError as exc:
        error = mensaje(exc)
        result = flag_service.FlagPage(items=[], total=0, page=1, page_size=50)
    rows = [(item, item_person(secret, item, caller)) for item in result.items]
    query = {**values, "orden": orden, "desc": "true" if desc else "false"}
    return page(
        request,
        "analista/cola.html",
        _context(
            request,
            active,
            titulo="Cola de alertas",
            filas=rows,
            resultado=result,
            filtros=values,
            orden=orden,
            desc=desc,
            error=error,
            aviso=aviso,
            departamentos=departments(),
            query=urlencode(query),
            csv_query=urlencode(values),
            es_supervisor=active.user.role in {"supervisor", "admin"},
        ),
        status_code=400 if error else 200,
    )


@router.post("/analista/lote")
async def lote(
    request: Request,
    active: StaffPageDep,
    session: SessionDep,
    accion: Annotated[str, Form(max_length=10)],
    motivo: Annotated[str | None, Form(max_length=2000)] = None,
    asignado_a: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    if active.user.role not in {"supervisor", "admin"}:
        raise NotAllowed("bulk actions need a supervisor", page=True)
    form = await request.form()
    values = {k: str(form.get(f"f_{k}") or "").strip() for k in FILTER_PARAMS}
    values = {k: v for k, v in values.items() if v}
    try:
        result = await flag_service.bulk(
            session,
            actor=actor_for(active),
            filters=filters_from(**values),
            action=accion,
            reason=motivo,
            assignee=asignado_a,
        )
        aviso = f"Acción aplicada a {result.changed} alertas."
    except RnuError as exc:
        aviso = mensaje(exc)
    return RedirectResponse("/analista?" + urlencode({**values, "aviso": aviso}), status_code=303)


# ---------------------------------------------------------------------------------------------
# One flag


async def _detail_page(
    request: Request,
    active: staff_service.ActiveSession,
    session: Any,
    secret: bytes,
    caller: Any,
    flag_id: int,
    *,
    error: str | None = None,
    aviso: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = await flag_service.get_detail(
        session, actor=actor_for(active), secret=secret, flag_id=flag_id
    )
    persona = (
        person_out(
            person_view(
                secret, detail.person, household=detail.household, programs=detail.programs
            ),
            caller,
        )
        if detail.person
        else None
    )
    staff = [u for u in await staff_repository.list_users(session) if u.role in STAFF_ROLES]
    volunteers = (
        await staff_repository.list_volunteers_for(session, ubigeo=detail.flag.ubigeo)
        if detail.flag.ubigeo
        else []
    )
    return page(
        request,
        "analista/alerta.html",
        _context(
            request,
            active,
            titulo=f"Alerta {flag_id}",
            d=detail,
            persona=persona,
            personal=staff,
            voluntarios=volunteers,
            campos=CAMPOS,
            error=error,
            aviso=aviso,
            clase=review_service.agreement_class,
        ),
        status_code=status_code,
    )


@router.get("/analista/alertas/{flag_id}", response_class=HTMLResponse)
async def alerta(
    request: Request,
    flag_id: RowId,
    active: StaffPageDep,
    session: SessionDep,
    secret: SecretDep,
    caller: CallerDep,
    aviso: str | None = None,
) -> HTMLResponse:
    return await _detail_page(request, active, session, secret, caller, flag_id, aviso=aviso)


@router.post("/analista/alertas/{flag_id}/{accion}")
async def alerta_accion(
    request: Request,
    flag_id: RowId,
    accion: str,
    active: StaffPageDep,
    session: SessionDep,
    secret: SecretDep,
    caller: CallerDep,
    motivo: Annotated[str | None, Form(max_length=2000)] = None,
    texto: Annotated[str | None, Form(max_length=2000)] = None,
    asignado_a: Annotated[str | None, Form(max_length=64)] = None,
    voluntario: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    actor = actor_for(active)
    if accion not in ("confirmar", "descartar", "reabrir", "asignar", "comentar", "tarea"):
        return page(
            request,
            "analista/error.html",
            _context(request, active, titulo="Error", error="Acción desconocida."),
            status_code=404,
        )
    try:
        # A savepoint: a refused action undoes only itself, and the session stays usable.
        async with session.begin_nested():
            if accion == "confirmar":
                await flag_service.confirm(session, actor=actor, flag_ids=[flag_id], note=texto)
                aviso = "Alerta confirmada."
            elif accion == "descartar":
                await flag_service.dismiss(session, actor=actor, flag_ids=[flag_id], reason=motivo)
                aviso = "Alerta descartada."
            elif accion == "reabrir":
                await flag_service.reopen(session, actor=actor, flag_ids=[flag_id])
                aviso = "Alerta reabierta."
            elif accion == "asignar":
                await flag_service.assign(
                    session, actor=actor, flag_ids=[flag_id], assignee=asignado_a
                )
                aviso = "Alerta asignada."
            elif accion == "comentar":
                await flag_service.comment(session, actor=actor, flag_id=flag_id, text=texto)
                aviso = "Comentario agregado."
            else:  # "tarea"
                await volunteer_service.create_task(
                    session,
                    actor=actor,
                    flag_id=flag_id,
                    volunteer=voluntario or "",
                    instructions=texto or "",
                )
                aviso = "Tarea enviada al voluntario."
    except RnuError as exc:
        return await _detail_page(
            request,
            active,
            session,
            secret,
            caller,
            flag_id,
            error=mensaje(exc),
            status_code=400,
        )
    return RedirectResponse(
        f"/analista/alertas/{flag_id}?" + urlencode({"aviso": aviso}), status_code=303
    )


@router.get("/analista/evidencia/{evidence_id}")
async def evidencia(
    evidence_id: RowId, active: StaffPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """An uploaded file, served to staff only, never inline as HTML."""
    item = await volunteer_service.get_evidence(session, evidence_id=evidence_id)
    await audit.record(
        session,
        actor=actor_for(active),
        action="evidence.view",
        details={"evidence_id": evidence_id},
    )
    path = volunteer_service.evidence_path(settings.data_dir, item.stored_name)
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(
        item.media_type, "pdf"
    )
    return FileResponse(
        path,
        media_type=item.media_type,
        filename=f"evidencia-{evidence_id}.{extension}",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


# ---------------------------------------------------------------------------------------------
# Match review


@router.get("/analista/revision", response_class=HTMLResponse)
async def revision(
    request: Request,
    active: StaffPageDep,
    session: SessionDep,
    secret: SecretDep,
    programa: str | None = None,
    pagina: int = 1,
) -> HTMLResponse:
    result = await review_service.list_queue(
        session, actor=actor_for(active), secret=secret, program_code=programa or None, page=pagina
    )
    return page(
        request,
        "analista/revision.html",
        _context(
            request,
            active,
            titulo="Revisión de coincidencias",
            resultado=result,
            programa=programa or "",
        ),
    )


@router.get("/analista/revision/{item_id}", response_class=HTMLResponse)
async def revision_item(
    request: Request,
    item_id: RowId,
    active: StaffPageDep,
    session: SessionDep,
    secret: SecretDep,
    error: str | None = None,
) -> HTMLResponse:
    detail = await review_service.get_detail(
        session, actor=actor_for(active), secret=secret, item_id=item_id
    )
    return page(
        request,
        "analista/revision_item.html",
        _context(
            request,
            active,
            titulo=f"Revisión {item_id}",
            d=detail,
            campos=CAMPOS,
            decisiones=DECISIONES,
            error=error,
        ),
    )


@router.post("/analista/revision/{item_id}")
async def revision_decidir(
    item_id: RowId,
    active: StaffPageDep,
    session: SessionDep,
    secret: SecretDep,
    decision: Annotated[str, Form(max_length=12)],
    persona: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    try:
        async with session.begin_nested():
            await review_service.decide(
                session,
                actor=actor_for(active),
                secret=secret,
                item_id=item_id,
                decision=decision,
                person_key=persona,
            )
    except RnuError as exc:
        return RedirectResponse(
            f"/analista/revision/{item_id}?" + urlencode({"error": mensaje(exc)}), status_code=303
        )
    return RedirectResponse("/analista/revision", status_code=303)


# ---------------------------------------------------------------------------------------------
# Dashboard


@router.get("/analista/tablero", response_class=HTMLResponse)
async def tablero(
    request: Request,
    active: StaffPageDep,
    session: SessionDep,
    programa: str | None = None,
    departamento: str | None = None,
) -> HTMLResponse:
    board = await dashboard_service.build(
        session,
        today=date.today(),
        program_code=programa or None,
        department=departamento or None,
    )
    return page(
        request,
        "analista/tablero.html",
        _context(
            request,
            active,
            titulo="Tablero",
            tablero=board,
            programa=programa or "",
            departamento=departamento or "",
            departamentos=departments(),
        ),
    )


def install(app: FastAPI) -> None:
    """Add the analysts' pages, and render "not allowed" on pages as Spanish HTML."""
    from api.errors import error_response

    app.include_router(router)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> Response:
        if not exc.page:
            return error_response("Forbidden", exc.detail, 403)
        return page(
            request,
            "analista/error.html",
            {
                "titulo": "Acceso no permitido",
                "usuario": None,
                "csrf": "",
                "error": "No tiene permiso para ver esta página o la acción no pudo verificarse. "
                "Vuelva a la página anterior, recárguela e intente de nuevo.",
            },
            status_code=403,
        )


__all__ = ["OptionalSessionDep", "install", "router"]
