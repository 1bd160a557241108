"""The MIDIS analysts' JSON API: session, flag queue, one flag, match review and dashboard.

Every route needs a live staff session (analyst, supervisor or admin) and, when it changes
anything, the session's CSRF token in ``X-CSRF-Token``. The routes parse and shape JSON only:
the jobs are ``usecases.analyst``'s (people through ``privacy.policy.person_out`` with the
analyst caller, reads and actions audited). This module has the session; the queue is in
``analista_cola``, one flag in ``analista_alertas``, review and dashboard in
``analista_revision``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.auth.login import FAILED, attempt_login, set_device_cookie, throttled
from api.auth.staff import (
    SESSION_COOKIE,
    StaffApiDep,
    actor_for,
    clear_session_cookie,
    set_session_cookie,
)
from api.deps import SessionDep, SettingsDep
from api.errors import error_response
from api.rest import analista_alertas, analista_cola, analista_revision
from api.rest.analista_cola import StrictModel
from rnu.audit import service as audit
from rnu.staff import service as staff_service
from rnu.staff.models import ACCOUNT_ROLES

router = APIRouter(prefix="/api/v1/analista", tags=["analistas"])


class LoginIn(StrictModel):
    usuario: str = Field(max_length=64)
    contrasena: str = Field(max_length=256)
    # The 6-digit TOTP code: required of supervisors and admins (rnu/staff/totp.py).
    codigo: str = Field(default="", max_length=12)


class SessionOut(BaseModel):
    usuario: str
    rol: str
    csrf_token: str


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


# The queue's routes first: "/alertas.csv" and "/alertas/lote" before "/alertas/{flag_id}".
router.include_router(analista_cola.router)
router.include_router(analista_alertas.router)
router.include_router(analista_revision.router)
