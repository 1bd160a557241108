"""One staff login attempt, the same for the JSON API and the login pages.

throttle (``api.auth.login_guard``) → password + TOTP (``rnu.staff.service.authenticate``) →
the throttle told of a success. The pages and the API differ only in how they answer: a
throttled attempt is a 429 with ``Retry-After`` (a Spanish page saying how long to wait, or the
JSON error shape); a failed one is a 401 with one message for every reason (wrong user,
password or code, a code already used, an account not enrolled), so nothing is confirmed on
its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from api.auth.login_guard import (
    DEVICE_COOKIE,
    DEVICE_MAX_AGE_S,
    device_cookie,
    device_of,
    login_guard_for,
)
from api.ratelimit import client_address
from api.state import AppState
from rnu.config import Settings
from rnu.errors import RateLimited
from rnu.staff import service as staff_service
from rnu.staff.models import StaffUser
from usecases.wording import espera

FAILED = (
    "Usuario, contraseña o código incorrectos. Supervisores y administradores escriben también "
    "el código de 6 dígitos de su aplicación de autenticación (cada código sirve una sola vez); "
    "si aún no la configuró, pídale a su administrador que la active. Si olvidó su contraseña, "
    "pida una nueva a su administrador."
)


def throttled(retry_after_s: int) -> str:
    """The Spanish sentence for a throttled login, with the wait in words."""
    return (
        "Hubo demasiados intentos de ingreso fallidos. Por seguridad, espere "
        f"{espera(retry_after_s)} antes de volver a intentarlo."
    )


@dataclass(frozen=True)
class LoginAttempt:
    """What one attempt came to: the account (None: refused) or the wait (throttled)."""

    user: StaffUser | None
    retry_after_s: int | None = None
    device_cookie: str | None = None


async def attempt_login(
    request: Request,
    session: AsyncSession,
    *,
    username: str,
    password: str,
    code: str,
    roles: frozenset[str],
) -> LoginAttempt:
    """Throttle, then check the password and (where needed) the TOTP code.

    The caller commits whatever the outcome (a consumed TOTP step is part of a success).
    """
    state: AppState = request.app.state.rnu
    settings = state.settings
    secret = settings.secret_key.get_secret_value().encode()
    guard = login_guard_for(state)
    device = device_of(secret, username, request.cookies.get(DEVICE_COOKIE))
    code = code.strip()
    try:
        admission = await guard.admit(
            client_address(request, settings.trusted_proxies),
            username,
            device=device,
            code_presented=bool(code),
        )
    except RateLimited as exc:
        return LoginAttempt(user=None, retry_after_s=exc.retry_after_s)
    check = await staff_service.check_login(
        session,
        username=username,
        password=password,
        code=code,
        server_secret=secret,
        require_code=admission.require_code,
        codes_allowed=await guard.codes_allowed(admission) if code else True,
    )
    if check.code_failed:
        await guard.code_failed(admission)
    elif code and check.user is None:
        # the same number of Redis round trips whether or not the password was right: a wrong
        # code after a right password must not answer later than a wrong password does
        await guard.codes_allowed(admission)
    user = check.user
    if user is None or user.role not in roles:
        return LoginAttempt(user=None)
    await guard.succeeded(admission)
    return LoginAttempt(user=user, device_cookie=device_cookie(secret, user.username))


def set_device_cookie(response: Response, value: str | None, settings: Settings) -> None:
    """Remember this browser for the account: its own throttle lane from now on."""
    if value is None:
        return
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_MAX_AGE_S,
        httponly=True,
        secure=settings.environment not in {"local", "test"},
        samesite="strict",
        path="/",
    )
