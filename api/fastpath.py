"""Cached self-lookups answered at the edge: one Redis round trip, no routing, no session.

``POST /api/v1/consulta`` through FastAPI costs ≈ 10× the server CPU of a bare route even when
the answer is cached (bench/api_speed.py, docs/performance.md): ten routers matched, five
dependencies solved, an ``AsyncSession`` opened and committed with no query, the limiter's
MULTI pipeline and the cache GET as two redis-py round trips, six middleware layers. This ASGI
app sits in front of the whole stack and answers a request itself only when the answer is
cached:

1. the body parsed exactly as the route would (``json.loads`` + ``ConsultaIn``, ``parse_dni``);
   with peak mode's cohorts on, read by the waiting room's own parser and judged by its
   schedule (a DNI whose turn it is not goes on to ``api.peak.CohortGate``);
2. the data version from the process memo (read through a short session only when stale,
   one read at a time: ``rnu.cache.DataVersionMemo``);
3. one Lua script on Redis (``rnu.respclient``): *if* the sealed answer exists under the
   lookup's key (``usecases.citizen.LookupRecipe``), count the client's request window and read
   the failure budgets and the DNI's lane, atomically, and return them with the answer;
4. the limits judged by the limiter's own rule (``RateLimiter.judge``): the same 429 or 428 as
   the route (``api.rest.consulta.refusal``), and before any answer is sent;
5. the answer unsealed and sent as stored: ``rnu.cache.sealed_json`` stores the bytes the route's
   ``JSONResponse`` would send;
6. what the outer layers add, from their own helpers: the request id
   (``api.observability.request_id``, in the context for log lines and in ``X-Request-Id``),
   the security headers (``api.headers.security_headers``), the request's metrics and its one
   access-log line under the route's template (``api.observability.access.observe``).
   ``tests/api/test_consulta_fastpath.py`` compares status, bytes and headers with the route's.

Anything else goes to the stack untouched, with the body replayed: no cached answer (the
script then counted nothing, so the route counts the request once, as before), an unknown DNI
or a wrong date (both are misses: the same path, the same answer, the same work), a body the
model refuses, Redis unwell or slow (the route has the circuit breaker and the fail-closed
limits), a fault in this module (logged by type only), the fast path turned off
(``RNU_LOOKUP_FAST_PATH=false``). Nothing here writes the audit trail, exactly as a cached
answer through the route does not: a citizen reading their own record is not audited as a
read of personal data (``usecases.citizen.lookup`` writes no row, cached or not); the
answer's ``accesos`` list is as cached.

With counters in a Redis of their own (``RNU_REDIS_COUNTERS_URL``) the same happens in two
round trips: the answer's GET on the cache's server, then the admission script on the counters'.
Redis Cluster is not supported by the script (its keys would sit in different slots).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from prometheus_client import Counter
from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.exc import SQLAlchemyError

from api import peak
from api.headers import security_headers
from api.observability.access import observe
from api.observability.request_id import request_id_of, request_id_var
from api.ratelimit import Admission, limiter_for, scope_client_address
from api.rest.consulta import NO_STORE, ConsultaIn, refusal
from api.state import AppState
from rnu.cache import cache_for, redis_origin, unseal
from rnu.coverage.service import has_check_character, parse_dni
from rnu.errors import InvalidInput, RateLimited, StepUpRequired
from rnu.peak import CohortSchedule, parse_schedule, today_in_lima
from rnu.respclient import Reply, RespClient, RespUnavailable
from usecases.citizen import LOOKUP_SCOPE, LookupRecipe

log = logging.getLogger("rnu.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/api/v1/consulta"
MAX_BODY = 4096  # ConsultaIn fits in a few dozen bytes; anything longer is the route's to refuse

FAST_PATH = Counter(
    "rnu_lookup_fast_path_total",
    "Self-lookups by how the fast path took them (answered, refused, or passed to the route)",
    ["outcome"],
)

_ANSWERED, _REFUSED = FAST_PATH.labels("answered"), FAST_PATH.labels("refused")

# KEYS: the client's request window, the budgets and lane to read, then the answer's key.
# ARGV: the window's length. Nothing is counted when the answer is absent.
ADMIT_IF_CACHED = """
local answer = redis.call('GET', KEYS[#KEYS])
if not answer then return false end
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local out = {redis.call('INCR', KEYS[1])}
for i = 2, #KEYS - 1 do
  out[#out + 1] = redis.call('GET', KEYS[i]) or '0'
  out[#out + 1] = redis.call('TTL', KEYS[i])
end
out[#out + 1] = answer
return out
"""
# The same admission without the answer, for counters on a Redis of their own.
ADMIT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local out = {redis.call('INCR', KEYS[1])}
for i = 2, #KEYS do
  out[#out + 1] = redis.call('GET', KEYS[i]) or '0'
  out[#out + 1] = redis.call('TTL', KEYS[i])
end
return out
"""


class _Pass(Exception):
    """Not for the fast path: the route answers (``reason`` labels the metric)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Clients:
    """The pipelined connections of one app state: the cache's Redis and the counters'."""

    def __init__(self, state: AppState) -> None:
        self.cache = _client_for(state.redis)
        self.counters = _client_for(state.counters) if state.counters is not None else None
        self.usable = self.cache is not None and (
            state.counters is None or self.counters is not None
        )


def _client_for(redis: Redis) -> RespClient | None:
    origin = redis_origin(redis)
    if origin is None:
        return None
    url, timeout_s = origin
    return RespClient.from_url(url, timeout_s=timeout_s)


_clients: WeakKeyDictionary[Redis, _Clients] = WeakKeyDictionary()


def clients_for(state: AppState) -> _Clients:
    clients = _clients.get(state.redis)
    if clients is None:
        clients = _clients[state.redis] = _Clients(state)
    return clients


async def close_clients(state: AppState) -> None:
    """Close this state's pipelined connections (at the app's shutdown: a transport left open
    when its event loop closes is a leak the loop warns about)."""
    clients = _clients.pop(state.redis, None)
    if clients is None:
        return
    for client in (clients.cache, clients.counters):
        if client is not None:
            client.close()
    await asyncio.sleep(0)  # one loop turn, so the transports finish closing


class LookupFastPath:
    """ASGI middleware: answer ``POST /api/v1/consulta`` from the cache, else pass it on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        state: AppState | None = getattr(scope["app"].state, "rnu", None)
        if state is None or not state.settings.lookup_fast_path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        chunks, complete = await _read_body(receive)
        rid = request_id_of(scope)
        token = request_id_var.set(rid)
        try:
            if not complete:
                raise _Pass("body")
            status, headers, body = await self._answer(
                scope, state, b"".join(m.get("body", b"") for m in chunks)
            )
        except _Pass as passed:
            FAST_PATH.labels(passed.reason).inc()
            request_id_var.reset(token)
            await self.app(scope, _replay(chunks, receive), send)
            return
        except Exception as exc:  # a fault here must not cost the citizen the answer
            log.warning("lookup fast path failed (%s); the route answers", type(exc).__name__)
            FAST_PATH.labels("error").inc()
            request_id_var.reset(token)
            await self.app(scope, _replay(chunks, receive), send)
            return
        try:
            # The headers in the order the route's stack adds them: the response's own, the
            # request id (RequestContextMiddleware), then the security headers.
            headers += [(b"x-request-id", rid.encode())]
            headers += security_headers(scope, state.settings.trusted_proxies)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            observe("POST", PATH, status, time.perf_counter() - started)
            request_id_var.reset(token)

    async def _answer(
        self, scope: Scope, state: AppState, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The response (status, headers, body) for a cached answer; _Pass for the route."""
        payload = _payload(scope, body)
        try:
            dni = parse_dni(payload.dni)
        except InvalidInput:
            raise _Pass("invalid") from None
        if state.settings.peak_cohorts and not await _admitted_today(scope, body, dni, state):
            raise _Pass("cohort")  # the waiting room (api/peak.py) answers it
        clients = clients_for(state)
        limiter = limiter_for(state)
        if not clients.usable or cache_for(state.redis).breaker.is_open:
            raise _Pass("redis")
        if limiter.cache.breaker.is_open:
            raise _Pass("redis")
        version = state.data_version.fresh()
        if version is None:
            try:
                async with state.sessionmaker() as session:
                    version = await state.data_version.current(session)
            except (SQLAlchemyError, OSError, TimeoutError):
                raise _Pass("database") from None  # the route meets it too, and says 503
        settings = state.settings
        recipe = LookupRecipe(
            settings.secret_key.get_secret_value().encode("utf-8"),
            version,
            dni,
            payload.fecha_nacimiento,
        )
        admission = limiter.admission(
            LOOKUP_SCOPE,
            scope_client_address(scope, settings.trusted_proxies),
            recipe.subject,
            limit=settings.lookup_per_client,
            window_s=settings.lookup_window_s,
            stepped_up=has_check_character(payload.dni),
        )
        count, values, sealed = await _admit_if_cached(clients, admission, recipe.key)
        try:
            limiter.judge(admission, count, values)
        except (RateLimited, StepUpRequired) as exc:
            _REFUSED.inc()
            refused = refusal(exc)
            return refused.status_code, list(refused.raw_headers), bytes(refused.body)
        plain = unseal(recipe.key, sealed, recipe.seal)
        if plain is None:  # damaged: the route computes it again (the request counted twice)
            raise _Pass("unsealed")
        if b"\\u" in plain:  # stored before sealed_json wrote UTF-8: as JSONResponse renders
            value = json.loads(plain)
            plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        _ANSWERED.inc()
        headers = [
            *_NO_STORE,
            (b"content-length", str(len(plain)).encode()),
            (b"content-type", b"application/json"),
        ]
        return 200, headers, plain


async def _admitted_today(scope: Scope, body: bytes, dni: str, state: AppState) -> bool:
    """False when peak mode's waiting room (``api.peak.CohortGate``) would not let this
    request through today: its DNI's cohort is not served, or the gate refuses the body."""
    schedule = _schedule(state.settings.peak_cohorts)
    if not schedule.is_active:
        return True
    try:
        gated = await peak.dni_of_request(scope, body)  # the gate's own reading of the body
    except peak.Refused:
        return False
    return gated == dni and schedule.admits(dni, today_in_lima())


@lru_cache(maxsize=4)
def _schedule(spec: str) -> CohortSchedule:
    return parse_schedule(spec)


_NO_STORE = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in NO_STORE.items())


def _payload(scope: Scope, body: bytes) -> ConsultaIn:
    """The body as the route reads it: JSON when untyped or ``application/json``; else pass."""
    content_type = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
            break
    media = content_type.split(b";", 1)[0].strip().lower()
    if media not in (b"", b"application/json") or not body:
        raise _Pass("content")
    try:  # json.loads then the model, as FastAPI reads a JSON body
        return ConsultaIn.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        raise _Pass("invalid") from None


async def _admit_if_cached(
    clients: _Clients, admission: Admission, answer_key: str
) -> tuple[int, list[tuple[int, int]], bytes]:
    """The request window's count, the budgets' (count, seconds left), the sealed answer; or
    _Pass when there is no cached answer (nothing counted) or Redis did not answer."""
    counters = [admission.window_key, *(name for name, _ in admission.checks)]
    window = [admission.window_s]
    reply: Reply
    try:
        if clients.counters is None:
            assert clients.cache is not None
            reply = await clients.cache.script(ADMIT_IF_CACHED, [*counters, answer_key], window)
            if reply is None:
                raise _Pass("miss")
        else:
            assert clients.cache is not None
            sealed = await clients.cache.call(b"GET", answer_key)
            if sealed is None:
                raise _Pass("miss")
            reply = await clients.counters.script(ADMIT, counters, window)
            if isinstance(reply, list):
                reply = [*reply, sealed]
    except RespUnavailable as exc:
        log.debug("lookup fast path: redis %s", exc)
        raise _Pass("redis") from None
    if not isinstance(reply, list) or not isinstance(reply[-1], bytes):
        raise _Pass("redis")
    values = [(int(reply[i]), max(int(reply[i + 1]), 0)) for i in range(1, len(reply) - 1, 2)]
    return int(reply[0]), values, reply[-1]


async def _read_body(receive: Receive) -> tuple[list[Message], bool]:
    """The request's body messages, up to MAX_BODY bytes: (messages, whole body read)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if size > MAX_BODY:
            return messages, False
        if not message.get("more_body", False):
            return messages, True


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives back the messages already read, then the connection's own."""
    queue = list(messages)

    async def replay() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay


def install(app: Any) -> None:
    """Put the fast path in front of the whole stack; call after ``headers.install`` (the
    security headers it adds itself, from ``api.headers.security_headers``)."""
    build = app.build_middleware_stack

    def build_with_fast_path() -> ASGIApp:
        return LookupFastPath(build())

    app.build_middleware_stack = build_with_fast_path
