"""Rate limits for the public endpoints: per client, and per DNI for self-lookups.

Counters live in Redis (fixed windows, one round trip per check). The client is the real
peer address; ``X-Forwarded-For`` is read only when the peer is a configured trusted proxy,
and then the right-most address that is not itself a trusted proxy is the client, so a header
a client forges cannot change its key. Client addresses enter Redis only as keyed digests.

When Redis is unavailable the limits fail *closed*: each process falls back to in-memory
counters with a low cap (per client and, for lookups, per process), so an outage can slow
honest users but never opens the door to enumeration.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import Depends, HTTPException, Request
from redis.asyncio import Redis

from api.deps import StateDep
from api.state import AppState
from rnu.cache import (
    Cache,
    CacheUnavailable,
    cache_for,
    client_limit_key,
    digest,
    subject_limit_key,
)
from rnu.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LOCAL_KEYS = 10_000  # bound on in-memory counters, so a flood cannot grow memory


class RateLimited(HTTPException):
    """Too many requests; ``Retry-After`` says when to try again."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            status_code=429,
            detail="too many requests",
            headers={"Retry-After": str(max(1, retry_after_s))},
        )
        self.retry_after_s = max(1, retry_after_s)


@lru_cache(maxsize=16)
def _networks(spec: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request, trusted_proxies: str) -> str:
    """The address of whoever sent the request, through trusted proxies only."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = [
        part.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for part in header.split(",")
        if part.strip()
    ]
    for address in reversed(forwarded):
        if not _is_trusted(address, networks):
            return address
    return forwarded[0] if forwarded else peer


def forwarded_proto(scope: MutableMapping[str, Any], trusted_proxies: str) -> str:
    """The scheme the client used: the connection's, or what a trusted proxy says it was.

    nginx sets (replaces) ``X-Forwarded-Proto``; from any other peer the header is ignored,
    so a client on plain HTTP cannot claim TLS (and the reverse).
    """
    scheme = str(scope.get("scheme", "http"))
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    networks = _networks(trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return scheme
    for name, value in scope.get("headers") or []:
        if name.lower() == b"x-forwarded-proto":
            claimed = value.decode("latin-1").split(",")[-1].strip().lower()
            return claimed if claimed in ("http", "https") else scheme
    return scheme


@dataclass
class _Window:
    started: float
    count: int


class LocalCounters:
    """In-memory fixed windows, used only while Redis is unavailable."""

    def __init__(self) -> None:
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def incr(self, key: str, window_s: int, now: float, amount: int = 1) -> tuple[int, int]:
        """Count ``amount`` events; return (count in window, seconds until the window ends)."""
        window = self._windows.get(key)
        if window is None or now - window.started >= window_s:
            window = _Window(now, 0)
        window.count += amount
        self._windows[key] = window
        self._windows.move_to_end(key)
        while len(self._windows) > _LOCAL_KEYS:
            self._windows.popitem(last=False)
        return window.count, int(window.started + window_s - now) + 1

    def get(self, key: str, window_s: int, now: float) -> int:
        window = self._windows.get(key)
        if window is None or now - window.started >= window_s:
            return 0
        return window.count


@dataclass(frozen=True)
class Taken:
    """Where ``RateLimiter.take`` counted, so unused units go back to the same window."""

    key: str
    window_s: int
    local: bool


class RateLimiter:
    """Per-client windows and per-subject failure locks, on Redis or failing closed."""

    def __init__(self, cache: Cache, settings: Settings) -> None:
        self.cache = cache
        self.settings = settings
        self.local = LocalCounters()
        self._secret = settings.secret_key.get_secret_value().encode()

    def client_digest(self, address: str) -> str:
        return digest(self._secret, "client", address)

    async def hit(self, scope: str, address: str, *, limit: int, window_s: int) -> None:
        """Count one request of this client in ``scope``; raise RateLimited over ``limit``."""
        now = time.time()
        window = int(now // window_s)
        client = self.client_digest(address)
        try:
            count = await self.cache.incr(client_limit_key(scope, client, window), window_s)
            retry = int((window + 1) * window_s - now) + 1
        except CacheUnavailable:
            count, retry = self._fallback_hit(scope, client, limit, window_s, now)
        if count > limit:
            raise RateLimited(retry)

    async def take(
        self, scope: str, address: str, *, amount: int, limit: int, window_s: int
    ) -> Taken:
        """Count ``amount`` units (person records) at once; raise RateLimited, counting
        nothing, when they do not fit under ``limit`` in this window."""
        now = time.time()
        window = int(now // window_s)
        client = self.client_digest(address)
        key = client_limit_key(scope, client, window)
        try:
            count = await self.cache.incr(key, window_s, amount)
        except CacheUnavailable:
            local_key = f"{scope}:{client}"
            count, retry = self.local.incr(local_key, window_s, now, amount)
            if count > max(1, limit // 4):  # fail closed, as for requests
                self.local.incr(local_key, window_s, now, -amount)
                raise RateLimited(retry) from None
            return Taken(local_key, window_s, local=True)
        if count > limit:
            await self.give_back(Taken(key, window_s, local=False), amount)
            raise RateLimited(int((window + 1) * window_s - now) + 1)
        return Taken(key, window_s, local=False)

    async def give_back(self, taken: Taken, amount: int) -> None:
        """Return units ``take`` counted but the request did not use."""
        if amount <= 0:
            return
        if taken.local:
            self.local.incr(taken.key, taken.window_s, time.time(), -amount)
            return
        try:
            await self.cache.incr(taken.key, taken.window_s, -amount)
        except CacheUnavailable:
            return  # the window ends anyway; over-counting only errs on the safe side

    def _fallback_hit(
        self, scope: str, client: str, limit: int, window_s: int, now: float
    ) -> tuple[int, int]:
        # Fail closed: a low per-client cap, and for lookups a cap on the whole process.
        if scope == "consulta":
            total, retry = self.local.incr("process:consulta", 60, now)
            if total > self.settings.fallback_lookups_per_minute:
                return limit + 1, retry
        count, retry = self.local.incr(f"{scope}:{client}", window_s, now)
        return (count if count <= max(1, limit // 4) else limit + 1), retry

    async def hit_and_check_subject(
        self, scope: str, address: str, subject_hmac: str, *, limit: int, window_s: int
    ) -> None:
        """``hit`` and ``check_subject`` in one Redis round trip: the self-lookup's hot path."""
        now = time.time()
        window = int(now // window_s)
        client = self.client_digest(address)
        key = subject_limit_key(scope, subject_hmac)
        try:
            count, failures = await self.cache.incr_and_read(
                client_limit_key(scope, client, window), window_s, key
            )
        except CacheUnavailable:
            count, retry = self._fallback_hit(scope, client, limit, window_s, now)
            if count > limit:
                raise RateLimited(retry) from None
            await self.check_subject(scope, subject_hmac)  # the breaker is open: local counts
            return
        if count > limit:
            raise RateLimited(int((window + 1) * window_s - now) + 1)
        if failures >= self.settings.lookup_failures_per_dni:
            try:
                retry = await self.cache.ttl(key)
            except CacheUnavailable:
                retry = 0
            raise RateLimited(retry or self.settings.lookup_lock_s)

    async def check_subject(self, scope: str, subject_hmac: str) -> None:
        """Raise RateLimited while this subject (a DNI's HMAC) is locked, whoever asks."""
        key = subject_limit_key(scope, subject_hmac)
        limit = self.settings.lookup_failures_per_dni
        try:
            failures = await self.cache.get_int(key)
            retry = await self.cache.ttl(key) if failures >= limit else 0
        except CacheUnavailable:
            failures = self.local.get(key, self.settings.lookup_lock_s, time.time())
            retry = self.settings.lookup_lock_s
        if failures >= limit:
            raise RateLimited(retry or self.settings.lookup_lock_s)

    async def record_failure(self, scope: str, subject_hmac: str) -> None:
        """Count a failed attempt on this subject; the lock starts at the first failure."""
        key = subject_limit_key(scope, subject_hmac)
        try:
            await self.cache.incr(key, self.settings.lookup_lock_s)
        except CacheUnavailable:
            self.local.incr(key, self.settings.lookup_lock_s, time.time())


_limiters: WeakKeyDictionary[Redis, RateLimiter] = WeakKeyDictionary()


def limiter_for(state: AppState) -> RateLimiter:
    """One limiter per app state (its Redis), sharing that client's circuit breaker."""
    limiter = _limiters.get(state.redis)
    if limiter is None or limiter.settings is not state.settings:
        limiter = _limiters[state.redis] = RateLimiter(cache_for(state.redis), state.settings)
    return limiter


async def get_limiter(state: StateDep) -> RateLimiter:
    return limiter_for(state)


async def get_client_address(request: Request, state: StateDep) -> str:
    return client_address(request, state.settings.trusted_proxies)


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
ClientAddressDep = Annotated[str, Depends(get_client_address)]
