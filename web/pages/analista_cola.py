"""The analysts' flag queue page (/analista) and its bulk actions (supervisors and admins).

The queue opens on the open flags; every filter is a query parameter, so a filtered view can
be bookmarked and its CSV downloaded. The job is ``usecases.analyst``'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from api.auth.analyst import AnalystPageDep, SupervisorAnalystPageDep
from api.auth.staff import StaffPageDep
from rnu.errors import RnuError
from rnu.ubigeo.reference import departments
from usecases import analyst as analyst_uc
from usecases import wording
from web.pages.analista_comun import context, mensaje, page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _filter_values(request: Request) -> dict[str, str]:
    return {
        k: v for k in analyst_uc.FILTER_PARAMS if (v := request.query_params.get(k, "").strip())
    }


@router.get("/analista", response_class=HTMLResponse)
async def cola(
    request: Request,
    active: StaffPageDep,
    analyst: AnalystPageDep,
    orden: str = "created_at",
    desc: bool = True,
    pagina: int = 1,
    aviso: str | None = None,
) -> HTMLResponse:
    values = _filter_values(request)
    if "estado" not in request.query_params:
        values["estado"] = "open"
    error = None
    query = analyst_uc.QueueQuery(
        filters=analyst_uc.queue_filter(values),
        sort=orden,
        descending=desc,
        page=pagina,
        page_size=PAGE_SIZE,
    )
    try:
        result = await analyst_uc.queue(analyst, query)
    except RnuError as exc:
        error = mensaje(exc)
        result = analyst_uc.QueuePage(lines=[], total=0, page=1, page_size=PAGE_SIZE)
    people = await analyst_uc.assignees(analyst, None) if analyst.is_supervisor else None
    links = {**values, "orden": orden, "desc": "true" if desc else "false"}
    return page(
        request,
        "analista/cola.html",
        context(
            active,
            titulo="Cola de alertas",
            filas=[(line.flag, line.person) for line in result.lines],
            resultado=result,
            filtros=values,
            orden=orden,
            desc=desc,
            error=error,
            aviso=aviso,
            departamentos=departments(),
            query=urlencode(links),
            csv_query=urlencode(values),
            es_supervisor=analyst.is_supervisor,
            personal=people.staff if people else [],
            acciones_lote=wording.BULK_ACTIONS,
        ),
        status_code=400 if error else 200,
    )


def _marked(form: FormData) -> tuple[int, ...]:
    """The flags ticked on the page (``alerta`` checkboxes); anything not an id is dropped."""
    ids = {
        int(v)
        for v in form.getlist("alerta")
        if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 18  # < 2**63
    }
    return tuple(sorted(i for i in ids if i > 0))


@router.post("/analista/lote")
async def lote(
    request: Request,
    analyst: SupervisorAnalystPageDep,
    accion: Annotated[str, Form(max_length=10)],
    motivo: Annotated[str | None, Form(max_length=2000)] = None,
    asignado_a: Annotated[str | None, Form(max_length=64)] = None,
    alcance: Annotated[str, Form(max_length=10)] = "marcadas",
) -> Response:
    """One action on the ticked flags, or on every filtered one (supervisors and admins).

    The ticked ids are kept inside the page's filters, so a flag that left the filtered set
    since the page was drawn (someone else closed it) is not acted on.
    """
    form = await request.form()
    values = {k: str(form.get(f"f_{k}") or "").strip() for k in analyst_uc.FILTER_PARAMS}
    values = {k: v for k, v in values.items() if v}
    filters = analyst_uc.queue_filter(values)
    marked = _marked(form)
    aviso: str | None = None
    if alcance != "filtradas":
        if not marked:
            aviso = wording.BULK_NONE_MARKED
        filters = replace(filters, flag_ids=marked)
    if accion == "dismiss" and not (motivo or "").strip():
        aviso = wording.BULK_REASON_REQUIRED
    if aviso is None:
        try:
            done = await analyst_uc.bulk(
                analyst,
                analyst_uc.BulkIn(
                    action=accion, filters=filters, reason=motivo, assignee=asignado_a or None
                ),
            )
            aviso = wording.bulk_done(done.changed)
        except RnuError as exc:
            aviso = mensaje(exc)
    # "estado" is always carried, empty for "Todos": without it the queue falls back to open
    back = {"estado": "", **values, "aviso": aviso}
    return RedirectResponse("/analista?" + urlencode(back), status_code=303)
