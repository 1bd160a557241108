"""Security headers on every response the site sends, error pages and static files included.

The pages use no inline script or style (one ``/static/rnu.js``, stylesheets under ``/static``),
so the Content-Security-Policy allows ``'self'`` only and forbids framing (clickjacking on the
analysts' pages). The interactive API docs and GraphiQL pages are the one exception: they are
HTML made by libraries, with inline bootstrap code, so they get ``DOCS_CSP``; a route that sets a
CSP of its own keeps it. HSTS is sent only when the request came over TLS — directly, or by a
trusted proxy's ``X-Forwarded-Proto`` (read by ``api.ratelimit``, the one parser of forwarded
headers) — since browsers ignore it on plain HTTP and a developer's ``http://127.0.0.1`` must
keep working.

The middleware wraps the whole app, outside Starlette's ``ServerErrorMiddleware``, so even the
catch-all 500 carries the headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.ratelimit import forwarded_proto

CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS: Final = ("/docs", "/redoc", "/graphql")
HSTS: Final = "max-age=31536000; includeSubDomains"

ALWAYS: Final = (
    (b"x-content-type-options", b"nosniff"),
    # Tracking codes and search terms ride in URLs; no page needs to tell others where it was.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers without CSP 2
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


def security_headers(scope: Scope, trusted_proxies: str) -> list[tuple[bytes, bytes]]:
    """The headers this request's response gets, in order (a route's own CSP or HSTS wins:
    ``SecurityHeaders`` adds only those the response does not carry)."""
    path = str(scope.get("path", ""))
    csp = DOCS_CSP if path.startswith(DOCS_PATHS) else CSP
    headers = [*ALWAYS, (b"content-security-policy", csp.encode())]
    if forwarded_proto(scope, trusted_proxies) == "https":
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response start."""

    def __init__(self, app: ASGIApp, trusted_proxies: Callable[[], str]) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = security_headers(scope, self.trusted_proxies())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in added if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Wrap the app's whole middleware stack (error handling included) with the headers."""
    build = app.build_middleware_stack

    def trusted() -> str:
        state = getattr(app.state, "rnu", None)
        return state.settings.trusted_proxies if state is not None else ""

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), trusted)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
