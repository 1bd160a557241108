"""Staff and volunteer sessions at the edge: the cookie, CSRF checks and the request's caller.

The session cookie is HttpOnly, SameSite=Lax, Secure outside local/test, and carries only a
random token (its SHA-256 is the database key). Every state-changing request of a logged-in
user must present the session's synchronizer token: the ``csrf_token`` form field for pages,
the ``X-CSRF-Token`` header for the JSON API. The login form itself is protected by a
double-submit cookie, since there is no session yet to hold a token.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from starlette.responses import Response

from api.deps import SessionDep
from privacy.roles import Caller, Role
from rnu.audit.service import Actor
from rnu.config import Settings
from rnu.staff import service as staff_service
from rnu.staff.models import STAFF_ROLES
from rnu.staff.service import ActiveSession, NewSession

SESSION_COOKIE = "rnu_sesion"
LOGIN_CSRF_COOKIE = "rnu_csrf_ingreso"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
VOLUNTEER_ROLES = frozenset({"volunteer"})


class LoginRequired(Exception):
    """No live session: JSON callers get 401, pages redirect to their login form."""

    def __init__(self, login_path: str | None) -> None:
        super().__init__("login required")
        self.login_path = login_path


class NotAllowed(Exception):
    """A live session whose role may not use this endpoint, or a failed CSRF check."""

    def __init__(self, detail: str, *, page: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.page = page


def is_secure(settings: Settings) -> bool:
    """Secure cookies everywhere but a developer's machine and the test client (plain HTTP)."""
    return settings.environment not in {"local", "test"}


def set_session_cookie(response: Response, new: NewSession, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=int(staff_service.SESSION_MAX.total_seconds()),
        httponly=True,
        secure=is_secure(settings),
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, secure=is_secure(settings), samesite="lax", path="/"
    )


def login_csrf_token(request: Request) -> str:
    """The login form's token: the browser's cookie, or a new one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def issue_login_csrf(
    request: Request, response: Response, settings: Settings, token: str | None = None
) -> str:
    """Set (or refresh) the login form's double-submit cookie on ``response``."""
    token = token or login_csrf_token(request)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        secure=is_secure(settings),
        samesite="strict",
        path="/",
    )
    return token


def login_csrf_ok(request: Request, presented: str | None) -> bool:
    return staff_service.tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), presented)


def caller_for(active: ActiveSession) -> Caller:
    """The privacy caller for a session: analysts (any staff role) or a district volunteer."""
    if active.is_staff:
        return Caller(role=Role.ANALYST, actor_id=active.actor)
    return Caller(
        role=Role.VOLUNTEER, districts=frozenset(active.user.districts), actor_id=active.actor
    )


def actor_for(active: ActiveSession, purpose: str | None = None) -> Actor:
    """How the audit trail names this session's user."""
    kind = "analyst" if active.is_staff else "volunteer"
    return Actor(kind=kind, id=active.actor, purpose=purpose)


async def current_session(request: Request, session: SessionDep) -> ActiveSession | None:
    """The live session of this request's cookie, resolved once per request."""
    if hasattr(request.state, "staff_session"):
        cached: ActiveSession | None = request.state.staff_session
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    active = await staff_service.resolve_session(session, token=token) if token else None
    request.state.staff_session = active
    return active


async def presented_csrf(request: Request) -> str | None:
    """The CSRF token a request carries: header first, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(FORM_TYPES):
        # Starlette caches the parsed form, so the route's Form() parameters still work.
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


class RequireSession:
    """Dependency: a live session with one of ``roles``; checks CSRF on unsafe methods.

    ``login_path`` set means an HTML page (redirect to login, Spanish error pages); None
    means the JSON API (401/403 in the one error shape).
    """

    def __init__(self, roles: Collection[str], *, login_path: str | None = None) -> None:
        self.roles = frozenset(roles)
        self.login_path = login_path

    async def __call__(self, request: Request, session: SessionDep) -> ActiveSession:
        active = await current_session(request, session)
        if active is None:
            raise LoginRequired(self.login_path)
        page = self.login_path is not None
        if active.user.role not in self.roles:
            raise NotAllowed("this account may not use this endpoint", page=page)
        if request.method not in SAFE_METHODS and not staff_service.csrf_matches(
            active, await presented_csrf(request)
        ):
            raise NotAllowed("CSRF token missing or wrong", page=page)
        request.state.caller = caller_for(active)
        return active


require_staff_api = RequireSession(STAFF_ROLES)
require_supervisor_api = RequireSession(SUPERVISOR_ROLES)
require_volunteer_api = RequireSession(VOLUNTEER_ROLES)
require_staff_page = RequireSession(STAFF_ROLES, login_path="/analista/ingresar")
require_supervisor_page = RequireSession(SUPERVISOR_ROLES, login_path="/analista/ingresar")
require_volunteer_page = RequireSession(VOLUNTEER_ROLES, login_path="/voluntarios/ingresar")

StaffApiDep = Annotated[ActiveSession, Depends(require_staff_api)]
SupervisorApiDep = Annotated[ActiveSession, Depends(require_supervisor_api)]
StaffPageDep = Annotated[ActiveSession, Depends(require_staff_page)]
SupervisorPageDep = Annotated[ActiveSession, Depends(require_supervisor_page)]
VolunteerPageDep = Annotated[ActiveSession, Depends(require_volunteer_page)]
OptionalSessionDep = Annotated[ActiveSession | None, Depends(current_session)]


def install(app: FastAPI) -> None:
    """Answer auth failures: JSON callers in the one error shape, pages by a redirect.

    A page's "not allowed" is rendered as Spanish HTML by ``web.pages``, which registers its
    own handler for ``NotAllowed`` over this one.
    """
    from fastapi.responses import RedirectResponse

    from api.errors import error_response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if exc.login_path:
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(
                f"{exc.login_path}?{urlencode({'siguiente': target})}", status_code=303
            )
        return error_response("Unauthorized", "login required", 401)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> Response:
        return error_response("Forbidden", exc.detail, 403)
