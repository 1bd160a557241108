"""Vigilance volunteers' pages under /voluntarios: login, my districts' rolls, reports, tasks.

Rolls go through the same ``usecases.public.roll`` as the public pages with the volunteer
caller, so the privacy policy gives full names in the volunteer's districts and still no DNI,
CSE or birth date, and never lists minors or Contigo users.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth.staff import VOLUNTEER_ROLES, VolunteerPageDep, actor_for
from api.context import ContextDep
from api.deps import RowId, SessionDep, SettingsDep, StateDep
from privacy.policy import RollEntryOut
from rnu.audit import service as audit
from rnu.errors import NotFound, RnuError
from rnu.report import service as report_service
from rnu.report.models import REASON_CODES
from rnu.roll import service as roll_service
from rnu.staff import volunteer as volunteer_service
from rnu.staff.service import ActiveSession
from usecases import public
from usecases.context import Context
from usecases.reported import reported_entry
from usecases.wording import REPORT_REASONS
from web.pages import NO_STORE, render
from web.pages.analista import login_form, login_submit, logout, lugar
from web.pages.lugares import elegir
from web.pages.reportar import program_choices

router = APIRouter(include_in_schema=False)

HALLAZGOS = {
    "confirma": "Se confirma el problema",
    "no_confirma": "No se confirma: la persona cumple",
    "no_ubicado": "No se pudo ubicar a la persona",
}
ERROR_ARCHIVO = (
    "El archivo debe ser una foto (JPG, PNG o WebP) o un PDF de hasta 5 MB. "
    "Revise el archivo e intente de nuevo."
)


def _context(active: ActiveSession, **extra: object) -> dict[str, object]:
    return {
        "seccion": "voluntarios",
        "usuario": active.user,
        "csrf": active.csrf_token,
        "lugar": lugar,
        "motivos": REPORT_REASONS,
        "hallazgos": HALLAZGOS,
        **extra,
    }


def _page(
    request: Request, name: str, context: dict[str, object], status: int = 200
) -> HTMLResponse:
    return render(request, name, context, status_code=status, headers=NO_STORE)


@router.get("/voluntarios/ingresar", response_class=HTMLResponse)
async def ingresar(request: Request, settings: SettingsDep) -> HTMLResponse:
    return await login_form(
        request, settings, area="voluntarios", template="voluntarios/ingresar.html"
    )


@router.post("/voluntarios/ingresar")
async def ingresar_enviar(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    usuario: Annotated[str, Form(max_length=64)] = "",
    contrasena: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    siguiente: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    return await login_submit(
        request,
        session,
        settings,
        area="voluntarios",
        template="voluntarios/ingresar.html",
        roles=VOLUNTEER_ROLES,
        usuario=usuario,
        contrasena=contrasena,
        csrf_token=csrf_token,
        siguiente=siguiente,
    )


@router.post("/voluntarios/salir")
async def salir(
    request: Request, active: VolunteerPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    return await logout(request, session, settings, "/voluntarios/ingresar")


@router.get("/voluntarios", response_class=HTMLResponse)
async def inicio(request: Request, active: VolunteerPageDep, session: SessionDep) -> HTMLResponse:
    """My districts and the programs present in each."""
    districts = [
        (code, await roll_service.district_programs(session, ubigeo=code))
        for code in active.user.districts
    ]
    tasks = await volunteer_service.list_tasks(session, user=active.user)
    return _page(
        request,
        "voluntarios/inicio.html",
        _context(
            active,
            titulo="Voluntarios",
            distritos=districts,
            tareas_abiertas=sum(1 for t in tasks if t.status == "open"),
        ),
    )


@router.get("/voluntarios/padron", response_class=HTMLResponse)
async def padron(
    request: Request,
    active: VolunteerPageDep,
    session: SessionDep,
    ctx: ContextDep,
    ubigeo: str,
    programa: str,
    periodo: str | None = None,
    q: str | None = None,
    pagina: int = 1,
) -> HTMLResponse:
    """A program's roll in one of my districts, with full names (no DNI, CSE or birth date)."""
    if ubigeo not in active.user.districts:
        return _page(
            request,
            "voluntarios/inicio.html",
            _context(
                active,
                titulo="Voluntarios",
                distritos=[],
                tareas_abiertas=0,
                error="Ese distrito no está asignado a su organización.",
            ),
            status=403,
        )
    try:
        body = await public.roll(
            ctx,
            programa=programa,
            ubigeo=ubigeo,
            periodo=periodo or None,
            q=q,
            page=pagina,
        )
    except RnuError:
        body = None
    await audit.record(
        session,
        actor=actor_for(active),
        action="roll.view",
        details={"program": programa, "ubigeo": ubigeo, "period": periodo, "page": pagina},
    )
    return _page(
        request,
        "voluntarios/padron.html",
        _context(
            active,
            titulo="Padrón del distrito",
            padron=body,
            ubigeo=ubigeo,
            programa=programa,
            q=q or "",
        ),
        status=200 if body is not None else 404,
    )


ERROR_ENTRADA = "No encontramos esa persona en el padrón del distrito."
ERROR_PROGRAMA = "Elija uno de los programas del distrito."
PROTEGIDA = "una persona del padrón cuyos datos están protegidos (menor de edad o Contigo)"


def _chosen_district(active: ActiveSession, ubigeo: str | None) -> str:
    """The district the report is about: the one asked for if it is mine; my only one."""
    districts = list(active.user.districts)
    if ubigeo in districts:
        return str(ubigeo)
    return districts[0] if len(districts) == 1 else ""


def _name_of(shown: RollEntryOut | None) -> str:
    """The reported person as my roll shows them (full name in my districts)."""
    if shown is None:
        return PROTEGIDA
    names = (shown.nombres, shown.apellido_paterno, shown.apellido_materno)
    return " ".join(n for n in names if n) or shown.display_name or PROTEGIDA


async def _report_form(
    request: Request,
    active: ActiveSession,
    ctx: Context,
    valores: dict[str, str],
    errores: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    """The form: my district (a GET choice), its programs (a select), whom I report.

    From a roll entry the person is named as my roll shows them (``usecases.reported``).
    """
    ubigeo = _chosen_district(active, valores.get("ubigeo"))
    programas = await program_choices(ctx.session, elegir(distrito=ubigeo))
    reportado = None
    if valores.get("entrada") and ubigeo and valores.get("programa"):
        try:
            shown = await reported_entry(
                ctx, programa=valores["programa"], ubigeo=ubigeo, entrada=valores["entrada"]
            )
            reportado = _name_of(shown)
        except NotFound:
            errores = errores | {"entrada": ERROR_ENTRADA}
            status = 400 if status == 200 else status
    return _page(
        request,
        "voluntarios/reportar.html",
        _context(
            active,
            titulo="Reportar un caso",
            valores=valores | {"ubigeo": ubigeo},
            errores=errores,
            programas=programas,
            reportado=reportado,
            aviso_recarga=f"Distrito elegido: {lugar(ubigeo)}." if ubigeo else "Elija el distrito.",
        ),
        status=status,
    )


@router.get("/voluntarios/reportar", response_class=HTMLResponse)
async def reportar(
    request: Request,
    active: VolunteerPageDep,
    ctx: ContextDep,
    ubigeo: str | None = None,
    programa: str | None = None,
    entrada: str | None = None,
) -> HTMLResponse:
    valores = {"ubigeo": ubigeo or "", "programa": programa or "", "entrada": entrada or ""}
    return await _report_form(request, active, ctx, valores, {})


@router.post("/voluntarios/reportar", response_class=HTMLResponse)
async def reportar_enviar(
    request: Request,
    active: VolunteerPageDep,
    session: SessionDep,
    state: StateDep,
    ctx: ContextDep,
    ubigeo: Annotated[str, Form(max_length=6)],
    programa: Annotated[str, Form(max_length=20)],
    motivo: Annotated[str, Form(max_length=30)],
    entrada: Annotated[str | None, Form(max_length=40)] = None,
    texto: Annotated[str | None, Form(max_length=1000)] = None,
    archivo: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """File a report about one of my districts, optionally with a photo or PDF."""
    valores = {
        "ubigeo": ubigeo,
        "programa": programa,
        "entrada": entrada or "",
        "texto": texto or "",
        "motivo": motivo,
    }
    errores: dict[str, str] = {}
    content: bytes | None = None
    if archivo is not None and archivo.filename:
        content = await archivo.read(volunteer_service.MAX_EVIDENCE_BYTES + 1)
        if (
            not content
            or len(content) > volunteer_service.MAX_EVIDENCE_BYTES
            or volunteer_service.sniff_media_type(content[:16]) is None
        ):
            errores["archivo"] = ERROR_ARCHIVO
    if ubigeo not in active.user.districts:
        errores["ubigeo"] = "Elija uno de los distritos asignados a su organización."
    if motivo not in REASON_CODES:
        errores["motivo"] = "Elija el motivo del reporte."
    elif not entrada and programa.upper() not in await program_choices(
        session, elegir(distrito=ubigeo)
    ):
        errores["programa"] = ERROR_PROGRAMA
    target = None
    if not errores:
        try:
            if entrada:
                resolved = await roll_service.resolve_entry(
                    session,
                    program_code=programa.upper(),
                    ubigeo=ubigeo,
                    entry_id=entrada,
                    entry_id_of=public.entry_id_of(
                        state.settings.secret_key.get_secret_value().encode()
                    ),
                )
                target = report_service.ReportTarget(
                    program_code=programa.upper(),
                    ubigeo=ubigeo,
                    period=resolved.period,
                    entry_id=entrada,
                    person_id=resolved.person_id,
                    enrollment_id=resolved.enrollment_id,
                )
            else:
                target = report_service.ReportTarget(program_code=programa.upper(), ubigeo=ubigeo)
        except RnuError:
            errores["entrada"] = ERROR_ENTRADA
    if errores or target is None:
        return await _report_form(request, active, ctx, valores, errores, 400)
    try:
        async with session.begin_nested():
            receipt, _ = await volunteer_service.file_report(
                session,
                actor=actor_for(active),
                user=active.user,
                target=target,
                reason_code=motivo,
                text=texto,
                data_dir=state.settings.data_dir,
                evidence=content,
            )
    except RnuError:
        errores["texto"] = "Describa el caso (qué vio y dónde) para que podamos revisarlo."
        return await _report_form(request, active, ctx, valores, errores, 400)
    return _page(
        request,
        "voluntarios/reporte_recibido.html",
        _context(
            active, titulo="Reporte recibido", codigo=receipt.tracking_code, plegado=receipt.folded
        ),
    )


@router.get("/voluntarios/reportes", response_class=HTMLResponse)
async def reportes(request: Request, active: VolunteerPageDep, session: SessionDep) -> HTMLResponse:
    """Every report of my districts, mine marked."""
    lines = await volunteer_service.list_reports(session, user=active.user)
    return _page(
        request,
        "voluntarios/reportes.html",
        _context(active, titulo="Reportes de mis distritos", reportes=lines),
    )


@router.get("/voluntarios/tareas", response_class=HTMLResponse)
async def tareas(
    request: Request, active: VolunteerPageDep, session: SessionDep, aviso: str | None = None
) -> HTMLResponse:
    tasks = await volunteer_service.list_tasks(session, user=active.user)
    return _page(
        request,
        "voluntarios/tareas.html",
        _context(active, titulo="Mis tareas", tareas=tasks, aviso=aviso),
    )


@router.post("/voluntarios/tareas/{task_id}")
async def responder_tarea(
    request: Request,
    task_id: RowId,
    active: VolunteerPageDep,
    session: SessionDep,
    state: StateDep,
    hallazgo: Annotated[str, Form(max_length=12)],
    respuesta: Annotated[str | None, Form(max_length=2000)] = None,
    archivo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    content = None
    if archivo is not None and archivo.filename:
        content = await archivo.read(volunteer_service.MAX_EVIDENCE_BYTES + 1)
    try:
        async with session.begin_nested():
            await volunteer_service.answer_task(
                session,
                actor=actor_for(active),
                user=active.user,
                task_id=task_id,
                finding=hallazgo,
                answer=respuesta,
                data_dir=state.settings.data_dir,
                evidence=content,
            )
        aviso = "Gracias. Su respuesta fue enviada al analista."
    except RnuError:
        aviso = (
            "No se pudo enviar la respuesta. Elija un resultado y, si adjunta un archivo, "
            "que sea una foto o un PDF de hasta 5 MB."
        )
    return RedirectResponse("/voluntarios/tareas?" + urlencode({"aviso": aviso}), status_code=303)
