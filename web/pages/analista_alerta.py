"""One flag's page (/analista/alertas/{id}): its detail, the actions on it, its evidence files.

Every action is a form with the session's CSRF token; a refused one renders the flag again
with the reason in Spanish (the action ran in a savepoint, so nothing of it stays). The jobs
are ``usecases.analyst``'s.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.auth.analyst import AnalystPageDep
from api.auth.staff import StaffPageDep
from api.deps import RowId, SettingsDep
from rnu.errors import PurposeRequired, RnuError
from rnu.staff.service import ActiveSession
from usecases import analyst as analyst_uc
from usecases import wording
from usecases.analyst import ActionIn, FlagAction
from web.pages.analista_comun import (
    Finalidad,
    context,
    known_purpose,
    mensaje,
    page,
    purpose_page,
)

router = APIRouter(include_in_schema=False)

# The actions' names in the pages' URLs.
ACTIONS = {
    "confirmar": FlagAction.CONFIRM,
    "descartar": FlagAction.DISMISS,
    "reabrir": FlagAction.REOPEN,
    "asignar": FlagAction.ASSIGN,
    "comentar": FlagAction.COMMENT,
    "tarea": FlagAction.TASK,
}


async def _detail_page(
    request: Request,
    active: ActiveSession,
    analyst: analyst_uc.Analyst,
    flag_id: int,
    *,
    purpose: str | None,
    error: str | None = None,
    aviso: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        case = await analyst_uc.flag_case(analyst, flag_id, purpose=purpose)
    except PurposeRequired:
        destino = f"/analista/alertas/{flag_id}"
        return purpose_page(request, active, destino, purpose, error=error)
    people = await analyst_uc.assignees(analyst, case.flag.ubigeo)
    return page(
        request,
        "analista/alerta.html",
        context(
            active,
            titulo=f"Alerta {flag_id}",
            d=case,
            finalidad=purpose,
            persona=case.person,
            evidencia=analyst_uc.evidence_view(case.flag.evidence, case.flag.program_code),
            personal=people.staff,
            voluntarios=people.volunteers,
            campos=wording.MATCH_FIELDS,
            error=error,
            aviso=aviso,
            clase=analyst_uc.agreement_class,
        ),
        status_code=status_code,
    )


@router.get("/analista/alertas/{flag_id}", response_class=HTMLResponse)
async def alerta(
    request: Request,
    flag_id: RowId,
    active: StaffPageDep,
    analyst: AnalystPageDep,
    aviso: str | None = None,
    finalidad: Finalidad = None,
) -> HTMLResponse:
    return await _detail_page(request, active, analyst, flag_id, purpose=finalidad, aviso=aviso)


def _action_in(
    action: FlagAction,
    *,
    motivo: str | None,
    texto: str | None,
    asignado_a: str | None,
    voluntario: str | None,
) -> ActionIn:
    """The form's fields for this action: a dismissal's reason, the assignee, the volunteer."""
    if action is FlagAction.DISMISS:
        return ActionIn(action, text=motivo)
    if action is FlagAction.ASSIGN:
        return ActionIn(action, username=asignado_a)
    if action is FlagAction.TASK:
        return ActionIn(action, text=texto, username=voluntario)
    return ActionIn(action, text=texto)


@router.post("/analista/alertas/{flag_id}/{accion}")
async def alerta_accion(
    request: Request,
    flag_id: RowId,
    accion: str,
    active: StaffPageDep,
    analyst: AnalystPageDep,
    motivo: Annotated[str | None, Form(max_length=2000)] = None,
    texto: Annotated[str | None, Form(max_length=2000)] = None,
    asignado_a: Annotated[str | None, Form(max_length=64)] = None,
    voluntario: Annotated[str | None, Form(max_length=64)] = None,
    finalidad: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    # The page after the action shows the person again, for the purpose it was opened for.
    purpose = known_purpose(finalidad)
    action = ACTIONS.get(accion)
    if action is None:
        return page(
            request,
            "analista/error.html",
            context(active, titulo="Error", error="Acción desconocida."),
            status_code=404,
        )
    form = _action_in(
        action, motivo=motivo, texto=texto, asignado_a=asignado_a, voluntario=voluntario
    )
    try:
        await analyst_uc.act(analyst, flag_id, form)
    except RnuError as exc:
        return await _detail_page(
            request, active, analyst, flag_id, purpose=purpose, error=mensaje(exc), status_code=400
        )
    back = {"aviso": wording.FLAG_ACTION_DONE[action.value]}
    if purpose:
        back["finalidad"] = purpose
    return RedirectResponse(f"/analista/alertas/{flag_id}?" + urlencode(back), status_code=303)


@router.get("/analista/evidencia/{evidence_id}")
async def evidencia(evidence_id: RowId, analyst: AnalystPageDep, settings: SettingsDep) -> Response:
    """An uploaded file, served to staff only, never inline as HTML."""
    item = await analyst_uc.evidence_file(analyst, evidence_id, data_dir=settings.data_dir)
    return FileResponse(
        item.path,
        media_type=item.media_type,
        filename=item.filename,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )
