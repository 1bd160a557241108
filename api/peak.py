"""Peak mode at the edge: warm the self-lookup cache after each batch, and the waiting room.

Warming calls ``usecases.citizen.warm``, which caches the *exact* entries
``usecases.citizen.lookup`` reads (one recipe for key, seal and body), so under a flood a
lookup is one Redis GET after the rate-limit counters. One API process warms per data
version (a Redis lock), cohorts served today first. The waiting room (``RNU_PEAK_COHORTS``)
answers DNIs whose turn has not come with a Spanish page or JSON and ``Retry-After``, before
any database work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from datetime import date
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from api.errors import error_body
from api.observability import PEAK_WAITING, PEAK_WARMED, Message, Receive, Scope, Send
from api.state import AppState
from rnu.cache import DataVersionMemo, cache_for, read_data_version
from rnu.errors import InvalidInput
from rnu.ops import repository as ops_repository
from rnu.peak import CohortSchedule, parse_schedule, seconds_until, today_in_lima
from usecases import citizen
from usecases.context import Context
from usecases.wording import dia_y_fecha

log = logging.getLogger("rnu.peak")

# The self-lookup endpoints the waiting room guards (REST and the web form).
GATED_PATHS = frozenset({"/api/v1/consulta", "/consulta"})


def _digits_text(digits: frozenset[str]) -> str:
    ordered = sorted(digits)
    return ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " y " + ordered[-1]


# ---------------------------------------------------------------------------------------------
# Warm cache.


async def warm_lookups(
    state: AppState, *, digits: tuple[str, ...] | None = None, limit: int | None = None
) -> int:
    """Precompute self-lookup answers for living people with a DNI; return how many."""
    cache = cache_for(state.redis)
    ttl = state.settings.peak_warm_ttl_s
    done = 0
    async with state.sessionmaker() as session:
        ctx = Context(
            session=session,
            cache=cache,
            settings=state.settings,
            data_version=DataVersionMemo(math.inf),  # one version for the whole warming run
        )
        async for subjects in ops_repository.stream_lookup_subjects(session, digits=digits):
            for subject in subjects:
                warmed = await citizen.warm(
                    ctx, dni=subject.dni, birth_on=subject.birth_on, ttl_s=ttl
                )
                if not warmed:  # two people on one DNI, or data changed under us
                    continue
                if cache.breaker.is_open:
                    log.warning("redis unavailable; warming stopped after %d answers", done)
                    return done
                done += 1
                PEAK_WARMED.inc()
                if limit is not None and done >= limit:
                    return done
            await session.rollback()  # end the read transaction between batches
    return done


async def warm_after_batches(state: AppState, *, poll_s: float = 10.0) -> None:
    """Watch ``data_version``; when it changes, one process (Redis lock) warms the cache."""
    schedule = parse_schedule(state.settings.peak_cohorts)
    warmed: int | None = None
    while True:
        try:
            async with state.sessionmaker() as session:
                version = await read_data_version(session)
            if version != warmed:
                lock = f"rnu:peak:warm:{version}"
                got = await state.redis.set(lock, str(os.getpid()), nx=True, ex=6 * 3600)
                warmed = version
                if got:
                    today = schedule.digits_on(today_in_lima())
                    first = tuple(sorted(today)) if today else None
                    count = await warm_lookups(state, digits=first)
                    if first:
                        rest = tuple(sorted(set("0123456789") - set(first)))
                        count += await warm_lookups(state, digits=rest)
                    log.info("peak cache warmed: %d answers for data version %d", count, version)
        except (RedisError, OSError, DBAPIError, TimeoutError) as exc:
            log.warning("peak warming skipped this round: %s", type(exc).__name__)
        await asyncio.sleep(poll_s)


# ---------------------------------------------------------------------------------------------
# Waiting room.


MAX_GATED_BODY = 16_384  # a self-lookup is ~60 bytes; anything bigger is not a citizen's form


class _Refused(Exception):
    """The gate cannot tell which DNI this request is for; it is answered, never let through."""

    def __init__(self, status: int, detail: str, mensaje: str) -> None:
        super().__init__(detail)
        self.status, self.detail, self.mensaje = status, detail, mensaje


Refused = _Refused  # what dni_of_request raises (api.fastpath asks the gate the same way)
_AMBIGUOUS = _Refused(400, "the request names more than one dni", "Envíe un solo DNI por consulta.")
_UNSUPPORTED = _Refused(
    415,
    "send the lookup as JSON or as a form",
    "No pudimos leer la consulta. Use el formulario de la página.",
)
_UNREADABLE = _Refused(400, "the form cannot be read", "No pudimos leer la consulta.")
_TOO_BIG = _Refused(413, "the request body is too large", "La consulta es demasiado grande.")


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if sum(key == "dni" for key, _ in pairs) > 1:
        raise _AMBIGUOUS
    return dict(pairs)


async def _read_body(receive: Receive) -> bytes:
    """The whole body, or _TOO_BIG: the gate must see everything the app will see."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_GATED_BODY:
            raise _TOO_BIG
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def dni_of_request(scope: Scope, body: bytes) -> str | None:
    """The DNI a gated request asks for, read by the parsers the endpoints themselves use.

    The gate used to parse bodies its own way: a content type it did not know (multipart, a
    JSON type without ``application/json``), a body past its first 16 KiB or a ``dni`` field
    sent twice (the gate read the first, the app the last) walked past the waiting room. Now
    JSON is read with ``json.loads`` as FastAPI does (no content type, ``*/json``, ``*+json``),
    forms with Starlette's own form parser, the value with the lookup's own ``parse_dni``; a
    second ``dni``, another content type or an oversized body is refused here. None: the
    request names no usable DNI, and the endpoint itself will refuse it.
    """
    from starlette.requests import Request

    from rnu.coverage.service import parse_dni

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, receive=replay)
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    value: Any
    if not media or media.endswith(("/json", "+json")):
        try:
            data = json.loads(body, object_pairs_hook=_json_pairs)
        except ValueError:
            return None
        value = data.get("dni") if isinstance(data, dict) else None
    elif media in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:  # Starlette's defaults, as the endpoints parse forms
            form = await request.form()
        except Exception as exc:  # fail closed on whatever the parser refuses
            raise _UNREADABLE from exc
        try:
            values = form.getlist("dni")
        finally:
            await form.close()  # uploaded parts are spooled files
        if len(values) > 1:
            raise _AMBIGUOUS
        value = values[0] if values else None
    else:
        raise _UNSUPPORTED
    if not isinstance(value, str):
        return None
    try:
        return parse_dni(value)
    except InvalidInput:
        return None


class CohortGate:
    """ASGI middleware: send a self-lookup whose cohort is not served today to the waiting room."""

    def __init__(self, app: Any, schedule: CohortSchedule) -> None:
        self.app = app
        self.schedule = schedule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or scope.get("path") not in GATED_PATHS
            or not self.schedule.is_active
        ):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await _read_body(receive)
            dni = await dni_of_request(scope, body)
        except _Refused as refused:
            await self._refuse(scope, send, refused, headers)
            return
        today = today_in_lima()
        if dni is not None and not self.schedule.admits(dni, today):
            PEAK_WAITING.inc()
            await self._waiting_room(scope, send, dni, today, headers)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self, scope: Scope, send: Send, refused: _Refused, headers: dict[str, str]
    ) -> None:
        from fastapi.responses import JSONResponse

        from api.observability import spanish_page

        response: Any
        if scope["path"].startswith("/api/") or "text/html" not in headers.get("accept", ""):
            payload = error_body("InvalidInput", refused.detail)
            payload["mensaje"] = refused.mensaje
            response = JSONResponse(payload, status_code=refused.status)
        else:
            response = spanish_page("Consulta no válida", refused.mensaje, refused.status)
        await response(scope, _drain, send)

    async def _waiting_room(
        self, scope: Scope, send: Send, dni: str, today: date, headers: dict[str, str]
    ) -> None:
        from api.observability import spanish_page

        turn = self.schedule.turn_for(dni, today)
        served = self.schedule.digits_on(today) or frozenset()
        mensaje = (
            f"Para atenderle mejor, hoy ({dia_y_fecha(today)}) atendemos los DNI que terminan "
            f"en {_digits_text(served)}. Su turno es el {dia_y_fecha(turn)}. Sus datos no "
            "cambian por consultar otro día."
        )
        retry = str(seconds_until(turn))
        common = {"Retry-After": retry, "Cache-Control": "no-store"}
        response: Any
        if scope["path"].startswith("/api/") or "text/html" not in headers.get("accept", ""):
            from fastapi.responses import JSONResponse

            payload = error_body("WaitingRoom", "this DNI's cohort is not served today")
            payload["mensaje"] = mensaje
            payload["turno"] = turn.isoformat()
            response = JSONResponse(payload, status_code=429, headers=common)
        else:
            response = spanish_page("Hoy no es su turno", mensaje, 429, **common)
        await response(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}


def install(app: Any, state_settings_cohorts: str) -> None:
    """Add the waiting room when a cohort schedule is configured (validated here, at start)."""
    schedule = parse_schedule(state_settings_cohorts)
    if schedule.is_active:
        app.add_middleware(CohortGate, schedule=schedule)
