"""Rate limits for the public endpoints: per client, and per DNI for self-lookups.

Counters live in Redis (fixed windows, one round trip per check). The client is the real
peer address; ``X-Forwarded-For`` is read only when the peer is a configured trusted proxy,
and then the right-most address that is not itself a trusted proxy is the client, so a header
a client forges cannot change its key. Client addresses enter Redis only as keyed digests.

When Redis is unavailable the limits fail *closed*, per client: each process falls back to
in-memory windows with a quarter of the budget, and the DNI lanes of ``api.lookup_guard`` are
counted locally, so an outage can slow honest users but never opens the door to enumeration —
and no single actor can spend a shared budget for everyone. A client Redis refused stays
refused in this process through an outage that starts right after (its spent budgets are
mirrored into the local windows when the refusal is made).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from redis.asyncio import Redis

from api.deps import StateDep
from api.lookup_guard import (
    GuardPolicy,
    LocalWindows,
    LookupGuard,
    RateLimited,
    StepUpRequired,
    Tier,
    parse_tiers,
)
from api.state import AppState
from rnu.cache import Cache, CacheUnavailable, cache_for, client_limit_key, digest, key
from rnu.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
__all__ = ["RateLimited", "RateLimiter", "StepUpRequired", "client_address", "forwarded_proto"]


@lru_cache(maxsize=16)
def _networks(spec: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


@lru_cache(maxsize=8192)
def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    # Memoised: every request asks for its peer (and forwarded hops), and parsing an address
    # with ipaddress costs more than the rest of the check.
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request, trusted_proxies: str) -> str:
    """The address of whoever sent the request, through trusted proxies only."""
    return scope_client_address(request.scope, trusted_proxies)


def scope_client_address(scope: MutableMapping[str, Any], trusted_proxies: str) -> str:
    """``client_address`` from the ASGI scope itself (``api.fastpath`` has no Request)."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    networks = _networks(trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded: list[str] = [
        part.strip()
        for name, value in scope.get("headers") or ()
        if name.lower() == b"x-forwarded-for"
        for part in value.decode("latin-1").split(",")
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


@dataclass(frozen=True)
class Admission:
    """A self-lookup's admission before its counters are read: the client's request window
    (counted), the failure budgets and DNI lane it must fit (read), and how to judge them."""

    window_key: str
    window_s: int
    retry_s: int  # until the request window ends
    limit: int
    checks: tuple[tuple[str, Tier], ...]
    stepped_up: bool
    scope: str
    client: str  # the client's keyed digest
    now: float


@dataclass(frozen=True)
class Taken:
    """Where ``RateLimiter.take`` counted, so unused units go back to the same window."""

    key: str
    window_s: int
    local: bool


class RateLimiter:
    """Per-client request windows and the self-lookup's failure budgets, on Redis or local."""

    def __init__(self, cache: Cache, settings: Settings) -> None:
        self.cache = cache
        self.settings = settings
        self.local = LocalWindows()
        self.guard = LookupGuard(
            GuardPolicy(
                plain=Tier(settings.lookup_failures_per_dni, settings.lookup_plain_window_s),
                stepup=parse_tiers(settings.lookup_stepup_tiers),
                client=parse_tiers(settings.lookup_client_failure_tiers),
            ),
            self.local,
        )
        self._secret = settings.secret_key.get_secret_value().encode()
        self._digests: dict[str, str] = {}  # address → its keyed digest, for repeat callers

    def client_digest(self, address: str) -> str:
        known = self._digests.get(address)
        if known is None:
            if len(self._digests) >= 10_000:  # bounded: a flood of addresses only recomputes
                self._digests.clear()
            known = self._digests[address] = digest(self._secret, "client", address)
        return known

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
        else:
            if count > limit:
                self._remember_window(scope, client, limit, window_s, now, retry)
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
        # Fail closed, per client: a quarter of the normal budget in this process. There is no
        # process-wide cap any more: one actor could spend it for everyone during an outage.
        count, retry = self.local.incr(key("rl", scope, "local", client), window_s, now)
        return (count if count <= max(1, limit // 4) else limit + 1), retry

    def _remember_window(
        self, scope: str, client: str, limit: int, window_s: int, now: float, retry: int
    ) -> None:
        """Redis refused this client's window: its local fallback window is spent too, so a
        Redis blip right after gives it no fresh quarter budget."""
        name = key("rl", scope, "local", client)
        self.local.remember(name, window_s, now, max(1, limit // 4), retry)

    def admission(
        self,
        scope: str,
        address: str,
        subject_hmac: str,
        *,
        limit: int,
        window_s: int,
        stepped_up: bool = False,
    ) -> Admission:
        """Which counters a self-lookup's admission counts and reads (no I/O)."""
        now = time.time()
        window = int(now // window_s)
        client = self.client_digest(address)
        return Admission(
            window_key=client_limit_key(scope, client, window),
            window_s=window_s,
            retry_s=int((window + 1) * window_s - now) + 1,
            limit=limit,
            checks=tuple(self.guard.checks(client, subject_hmac, stepped_up=stepped_up)),
            stepped_up=stepped_up,
            scope=scope,
            client=client,
            now=now,
        )

    def judge(self, admission: Admission, count: int, values: Sequence[tuple[int, int]]) -> None:
        """Raise RateLimited or StepUpRequired from the counters' values, or return.

        A refusal is remembered in this process's fallback windows (``LocalWindows.remember``):
        a client over its budget stays refused through a Redis outage that starts right after.
        """
        a = admission
        if count > a.limit:
            self._remember_window(a.scope, a.client, a.limit, a.window_s, a.now, a.retry_s)
            raise RateLimited(a.retry_s)
        try:
            self.guard.judge(a.checks, values, stepped_up=a.stepped_up)
        except (RateLimited, StepUpRequired):
            self.guard.remember_spent(a.checks, values, a.now)
            raise

    async def hit_and_check_subject(
        self,
        scope: str,
        address: str,
        subject_hmac: str,
        *,
        limit: int,
        window_s: int,
        stepped_up: bool = False,
    ) -> None:
        """A self-lookup's admission in one Redis round trip: the client's request window, its
        failure budget, and the DNI's lane (``api.lookup_guard``). Raises RateLimited or
        StepUpRequired; the same for a DNI that exists and one that does not."""
        a = self.admission(
            scope, address, subject_hmac, limit=limit, window_s=window_s, stepped_up=stepped_up
        )
        try:
            count, values = await self.cache.incr_and_read_counters(
                a.window_key, window_s, [name for name, _ in a.checks]
            )
        except CacheUnavailable:
            count, retry = self._fallback_hit(scope, a.client, limit, window_s, a.now)
            values = self.guard.read_local(a.checks)
            a = replace(a, retry_s=retry)
        self.judge(a, count, values)

    async def record_failure(
        self, scope: str, subject_hmac: str, *, address: str, stepped_up: bool = False
    ) -> None:
        """Count a wrong birth date (or unknown DNI) against the client and the DNI's lane."""
        items = self.guard.failures(
            self.client_digest(address), subject_hmac, stepped_up=stepped_up
        )
        try:
            await self.cache.incr_many(items)
        except CacheUnavailable:
            self.guard.count_local(items)


_limiters: WeakKeyDictionary[Redis, RateLimiter] = WeakKeyDictionary()


def limiter_for(state: AppState) -> RateLimiter:
    """One limiter per app state (its counters' Redis), sharing that client's breaker."""
    redis = state.counters if state.counters is not None else state.redis
    limiter = _limiters.get(redis)
    if limiter is None or limiter.settings is not state.settings:
        limiter = _limiters[redis] = RateLimiter(cache_for(redis), state.settings)
    return limiter


async def get_limiter(state: StateDep) -> RateLimiter:
    return limiter_for(state)


async def get_client_address(request: Request, state: StateDep) -> str:
    return client_address(request, state.settings.trusted_proxies)


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
ClientAddressDep = Annotated[str, Depends(get_client_address)]
