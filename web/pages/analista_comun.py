"""What every analyst page shares: the Spanish labels, the place names, the page renderer.

The labels are ``usecases.wording``'s (one home per label); the pages are never cached.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

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
        **extra,
    }


def page(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    return render(request, name, context, status_code=status_code, headers=NO_STORE)
