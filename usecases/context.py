"""What every use case runs with: one typed, immutable context built by the edge.

An edge (a REST route, a web page, a GraphQL resolver, a CLI command, a worker task) builds a
``Context`` from its own wiring (``api.context`` for HTTP) and passes it to a use case; the use
case never reads a request, an ``AppState`` or the environment. Limits are a protocol so the
core and the use cases do not depend on the HTTP rate limiter; jobs without a client pass
``NO_LIMITS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.roles import Caller, Role
from rnu.cache import Cache, DataVersionMemo
from rnu.config import Settings


class Limiter(Protocol):
    """The rate limits a use case applies (``api.ratelimit.RateLimiter`` is one)."""

    async def hit(self, scope: str, address: str, *, limit: int, window_s: int) -> None:
        """Count one request of this client in ``scope``; raise RateLimited over ``limit``."""
        ...

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
        """``hit``, then this subject's (a DNI's HMAC) lane: RateLimited or StepUpRequired."""
        ...

    async def record_failure(
        self, scope: str, subject_hmac: str, *, address: str, stepped_up: bool = False
    ) -> None:
        """Count a failed attempt on this subject, from this client."""
        ...


class NoLimits:
    """For jobs that serve no client (cache warming, the CLI): nothing is counted."""

    async def hit(self, scope: str, address: str, *, limit: int, window_s: int) -> None:
        return None

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
        return None

    async def record_failure(
        self, scope: str, subject_hmac: str, *, address: str, stepped_up: bool = False
    ) -> None:
        return None


NO_LIMITS = NoLimits()


class Clock:
    """The time a use case sees; a test passes a fixed one instead of patching ``date``."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return date.today()


@dataclass(frozen=True)
class FixedClock(Clock):
    at: datetime

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


@dataclass(frozen=True, kw_only=True)
class Context:
    """One job's session, cache, secret, caller, limits and clock.

    ``client`` is the caller's network address as the edge established it (trusted proxies
    only); limits key on it, and it never leaves the process in clear.
    """

    session: AsyncSession
    cache: Cache
    settings: Settings
    data_version: DataVersionMemo
    caller: Caller = field(default_factory=lambda: Caller(role=Role.PUBLIC))
    limiter: Limiter = NO_LIMITS
    client: str = "local"
    clock: Clock = field(default_factory=Clock)

    @property
    def secret(self) -> bytes:
        """The server secret, for the keyed HMACs and seals (never logged, never returned)."""
        return self.settings.secret_key.get_secret_value().encode("utf-8")

    async def version(self) -> int:
        """The data version answers are cached under (memoised for a moment)."""
        return await self.data_version.current(self.session)
