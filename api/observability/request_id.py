"""The request id: one per request, taken from ``X-Request-Id`` when sane, else a new uuid.

It is in every log line of the request (a context variable) and in the response's
``X-Request-Id``, so an operator can follow one request through the logs without any
personal data. Also the ASGI types the middleware layers share.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_of(scope: Scope) -> str:
    """The caller's ``X-Request-Id`` when it is a plain id, else a fresh one."""
    incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
    return incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
