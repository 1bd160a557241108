"""Match review pages (/analista/revision) and the dashboard (/analista/tablero).

A review item shows the loaded row beside its candidates (each through the analyst's policy)
with the fields that agree highlighted; a decision applies at once. The jobs are
``usecases.analyst``'s.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth.analyst import AnalystPageDep
from api.auth.staff import StaffPageDep
from api.deps import RowId
from rnu.errors import PurposeRequired, RnuError
from rnu.ubigeo.reference import departments, provinces
from usecases import analyst as analyst_uc
from usecases import wording
from web.pages.analista_comun import (
    Finalidad,
    context,
    known_purpose,
    mensaje,
    page,
    purpose_page,
)

router = APIRouter(include_in_schema=False)


@router.get("/analista/revision", response_class=HTMLResponse)
async def revision(
    request: Request,
    active: StaffPageDep,
    analyst: AnalystPageDep,
    programa: str | None = None,
    pagina: int = 1,
) -> HTMLResponse:
    result = await analyst_uc.review_queue(analyst, program_code=programa, page=pagina)
    return page(
        request,
        "analista/revision.html",
        context(
            active, titulo="Revisión de coincidencias", resultado=result, programa=programa or ""
        ),
    )


@router.get("/analista/revision/{item_id}", response_class=HTMLResponse)
async def revision_item(
    request: Request,
    item_id: RowId,
    active: StaffPageDep,
    analyst: AnalystPageDep,
    error: str | None = None,
    finalidad: Finalidad = None,
) -> HTMLResponse:
    try:
        case = await analyst_uc.review_case(analyst, item_id, purpose=finalidad)
    except PurposeRequired:
        return purpose_page(request, active, f"/analista/revision/{item_id}", finalidad)
    return page(
        request,
        "analista/revision_item.html",
        context(
            active,
            titulo=f"Revisión {item_id}",
            d=case,
            finalidad=finalidad,
            campos=wording.MATCH_FIELDS,
            decisiones=wording.REVIEW_DECISIONS,
            error=error,
        ),
    )


@router.post("/analista/revision/{item_id}")
async def revision_decidir(
    item_id: RowId,
    analyst: AnalystPageDep,
    decision: Annotated[str, Form(max_length=12)],
    persona: Annotated[str | None, Form(max_length=40)] = None,
    finalidad: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    try:
        await analyst_uc.decide(
            analyst, item_id, analyst_uc.DecisionIn(decision=decision, person_key=persona)
        )
    except RnuError as exc:
        back = {"error": mensaje(exc)}
        if purpose := known_purpose(finalidad):
            back["finalidad"] = purpose
        return RedirectResponse(f"/analista/revision/{item_id}?" + urlencode(back), status_code=303)
    return RedirectResponse("/analista/revision", status_code=303)


@router.get("/analista/tablero", response_class=HTMLResponse)
async def tablero(
    request: Request,
    active: StaffPageDep,
    analyst: AnalystPageDep,
    programa: str | None = None,
    departamento: str | None = None,
    provincia: str | None = None,
    periodo: str | None = None,
) -> HTMLResponse:
    """The dashboard; every filter is a query parameter and the scope is said in words.

    A province outside the chosen department is dropped (the department was changed).
    """
    programa, departamento = programa or None, departamento or None
    provincia, periodo = provincia or None, periodo or None
    if provincia and departamento and not provincia.startswith(departamento):
        provincia = None
    error = None
    try:
        board = await analyst_uc.dashboard(
            analyst,
            program_code=programa,
            department=departamento,
            province=provincia,
            period=periodo,
        )
    except RnuError as exc:
        error = mensaje(exc)
        board = await analyst_uc.dashboard(analyst, program_code=programa)
        departamento = provincia = periodo = None
    view = analyst_uc.board_view(board, program_code=programa, period=periodo)
    return page(
        request,
        "analista/tablero.html",
        context(
            active,
            titulo="Tablero",
            tablero=board,
            vista=view,
            programa=programa or "",
            departamento=departamento or "",
            provincia=provincia or "",
            periodo_elegido=periodo or "",
            departamentos=departments(),
            provincias=provinces(departamento) if departamento else [],
            error=error,
        ),
        status_code=400 if error else 200,
    )
