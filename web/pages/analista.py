"""Analyst pages under /analista: login and logout here; the rest in the analista_* modules.

Server-rendered and usable without JavaScript. Every form that changes something carries the
session's CSRF token (checked by ``api.auth.staff.RequireSession``); the login form carries a
double-submit token instead. The pages call ``usecases.analyst`` (queue: ``analista_cola``,
one flag: ``analista_alerta``, review and dashboard: ``analista_revision``); errors from the
use cases are shown in Spanish next to the form. The login is shared with the volunteers'
area (``web.pages.voluntarios``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

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
from api.deps import SessionDep, SettingsDep
from rnu.audit import service as audit
from rnu.staff import service as staff_service
from rnu.staff.models import STAFF_ROLES
from web.pages import analista_alerta, analista_cola, analista_revision
from web.pages.analista_comun import lugar, page

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None, area: str) -> str:
    # Only paths inside the area: an absolute URL here would be an open redirect.
    if value and value.startswith(f"/{area}") and not value.startswith("//"):
        return value
    return f"/{area}"


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


router.include_router(analista_cola.router)
router.include_router(analista_alerta.router)
router.include_router(analista_revision.router)


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


__all__ = [
    "OptionalSessionDep",
    "install",
    "login_form",
    "login_submit",
    "logout",
    "lugar",
    "router",
]
