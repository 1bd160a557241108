"""What every analyst page shares: the Spanish labels, the place names, the page renderer.

The labels are ``usecases.wording``'s (one home per label); the pages are never cached.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from rnu.audit.purposes import ANALYST_PURPOSES
from rnu.staff.service import ActiveSession
from rnu.ubigeo.reference import by_inei
from usecases import wording
from web.pages import NO_STORE, render

mensaje = wording.staff_error


def lugar(ubigeo: str | None) -> str:
    """A district's ubigeo as 'Distrito (Provincia, Departamento)'; unknown: the code."""
    district = by_inei(ubigeo) if ubigeo else None
    if district is None:
        return ubigeo or ""
    province, department = district.provincia.title(), district.departamento.title()
    return f"{district.distrito.title()} ({province}, {department})"


def context(active: ActiveSession | None, **extra: Any) -> dict[str, Any]:
    """A staff page's template context: the user, their CSRF token and the labels."""
    return {
        "usuario": active.user if active else None,
        "csrf": active.csrf_token if active else "",
        "tipos": wording.KIND_LABELS,
        "estados": wording.FLAG_STATUS,
        "severidades": wording.FLAG_SEVERITY,
        "acciones": wording.FLAG_EVENTS,
        "lugar": lugar,
        "rol": wording.staff_role,
        "actor": wording.staff_actor,
        "fecha_hora": wording.fecha_hora,
        "metodo": wording.match_method,
        "resultado_fila": wording.row_outcome,
        "coincidencia": wording.agreement,
        "coincidencias": wording.agreements,
        "peso": wording.peso,
        "cse": wording.cse_label,
        "motivos": wording.REPORT_REASONS,
        "estados_reporte": wording.REPORT_STATUS,
        "estados_tarea": wording.TASK_STATUS,
        "estados_revision": wording.REVIEW_STATUS,
        "hallazgos": wording.TASK_FINDINGS,
        "sexos": wording.SEX_LABELS,
        "programas": wording.PROGRAM_SHORT,
        **extra,
    }


def page(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    return render(request, name, context, status_code=status_code, headers=NO_STORE)


# Opening a person's data: the analyst says why first; the purpose goes into the audit row.
Finalidad = Annotated[str | None, Query(max_length=40)]


def known_purpose(value: str | None) -> str | None:
    """A purpose a form carried back (hidden field), if it is one of the list."""
    return value if value in ANALYST_PURPOSES else None


def purpose_page(
    request: Request,
    active: ActiveSession,
    destino: str,
    given: str | None,
    *,
    error: str | None = None,
) -> HTMLResponse:
    """Ask why before a person is shown; an empty or unknown purpose is refused (400).

    ``error``: an action on the person failed and its form carried no purpose to show them
    again with (400 too).
    """
    refused = given is not None or error is not None
    return page(
        request,
        "analista/finalidad.html",
        context(
            active,
            titulo="¿Para qué abre estos datos?",
            destino=destino,
            finalidades={code: wording.PURPOSES[code] for code in ANALYST_PURPOSES},
            explicacion=wording.PURPOSE_ASK,
            error=error or (wording.PURPOSE_REQUIRED if given is not None else None),
        ),
        status_code=400 if refused else 200,
    )
