"""The login throttle's lanes on the real (counters') Redis, with a clock the test moves (11.11).

The backoff escalates and ends: the account's owner waits at most the cap, never for good, and
the lane forgets after a quiet day. The simulation counts what an attacker trying as soon as the
lanes allow gets through in a day and a year — the arithmetic of docs/security.md.
"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from api.auth.login_guard import Admission, Backoff, LoginGuard, parse_backoff
from rnu.cache import Cache, cache_for, make_redis
from rnu.config import Settings
from rnu.errors import RateLimited
from tests.api.test_redis_faults import stopped_redis_url

__all__ = ["stopped_redis_url"]

DAY = 86_400


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def guard_on(cache: Cache, clock: Clock) -> LoginGuard:
    return LoginGuard(cache, Settings(environment="test", secret_key="guard-test"), clock=clock)


async def try_once(guard: LoginGuard, address: str, username: str) -> int | None:
    """None when admitted (a failure reserved), else the wait in seconds."""
    try:
        await guard.admit(address, username, device=None, code_presented=False)
    except RateLimited as exc:
        return exc.retry_after_s
    return None


def test_the_waits_double_up_to_the_cap() -> None:
    account = parse_backoff(Settings().login_account_backoff)
    assert account == Backoff(free=5, base_s=60, cap_s=3600, forget_s=DAY)
    # The code lane has the same numbers, so the year's bound below holds for codes too.
    assert parse_backoff(Settings().login_code_backoff) == account
    waits = [account.wait_after(n) for n in range(4, 13)]
    assert waits == [0, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    with pytest.raises(ValueError, match="free/base_s/cap_s/forget_s"):
        parse_backoff("5/60")


async def test_account_backoff_escalates_and_never_locks_for_good(redis: Redis) -> None:
    clock = Clock()
    guard = guard_on(cache_for(redis), clock)
    # Each stranger from a new address: only the account lane is shared.
    seen = [await try_once(guard, f"10.9.0.{n}", "ana") for n in range(5)]
    assert seen == [None] * 5
    assert await try_once(guard, "10.9.1.1", "ana") == 60
    clock.now += 60
    assert await try_once(guard, "10.9.1.2", "ana") is None  # the wait ended: one more try
    assert await try_once(guard, "10.9.1.3", "ana") == 120  # and the next wait doubled
    clock.now += 120
    assert await try_once(guard, "10.9.1.4", "ana") is None
    for _ in range(10):  # keep trying as soon as allowed: the wait stops at the cap
        wait = await try_once(guard, "10.9.2.1", "ana")
        assert wait is not None
        clock.now += wait
        assert await try_once(guard, "10.9.2.2", "ana") is None
    assert wait == 3600
    # A quiet day later the lane has forgotten (Redis expiry in real time stands in: drop it).
    for lane in guard.lanes("10.9.2.2", "ana", device=None, code_presented=False):
        await redis.delete(lane.key)
    assert [await try_once(guard, "10.9.3.1", "ana") for _ in range(2)] == [None, None]


async def test_a_success_clears_the_account_and_gives_the_address_its_attempt_back(
    redis: Redis,
) -> None:
    clock = Clock()
    guard = guard_on(cache_for(redis), clock)
    for n in range(9):
        assert await try_once(guard, "203.0.113.50", f"user{n}") is None
    admission = await guard.admit("203.0.113.50", "ana", device=None, code_presented=False)
    await guard.succeeded(admission)
    address, account = admission.lanes
    assert await redis.hget(address.key, "n") == b"9"  # the success gave its unit back
    assert not await redis.exists(account.key)  # the owner proved themselves: forgotten
    assert await try_once(guard, "203.0.113.50", "user9") is None  # 10th failure: still free
    assert await try_once(guard, "203.0.113.50", "user10") == 30


async def test_parallel_attempts_cannot_share_the_free_ones(redis: Redis) -> None:
    """The check and the reservation are one Lua script: 20 concurrent attempts on one account
    get exactly its 5 free ones."""
    import asyncio

    clock = Clock()
    guard = guard_on(cache_for(redis), clock)
    outcomes = await asyncio.gather(*(try_once(guard, f"10.8.0.{n}", "bea") for n in range(20)))
    assert outcomes.count(None) == 5


async def count_admitted(guard: LoginGuard, clock: Clock, seconds: int, pick: object) -> int:
    """An attacker who tries again the moment the lanes allow, for ``seconds``."""
    start, admitted, n = clock.now, 0, 0
    while clock.now < start + seconds:
        address, username = pick(n)  # type: ignore[operator]
        wait = await try_once(guard, address, username)
        if wait is None:
            admitted += 1
            n += 1
        else:
            clock.now += wait
    return admitted


async def test_guesses_at_the_limits(redis: Redis) -> None:
    """docs/security.md's table: one address against every account; a botnet (a new address for
    every guess) against one account, for a day and for a year."""
    clock = Clock()
    guard = guard_on(cache_for(redis), clock)
    one_address = await count_admitted(guard, clock, DAY, lambda n: ("198.51.100.1", f"u{n}"))
    assert one_address == 109  # 10 free + 5 escalating + 94 at the 15-minute cap
    await redis.flushdb()
    clock = Clock()
    guard = guard_on(cache_for(redis), clock)
    botnet_day = await count_admitted(
        guard, clock, DAY, lambda n: (f"10.{n // 250}.{n % 250}.1", "ana")
    )
    assert botnet_day == 33  # 5 free + 6 escalating + 22 at the one-hour cap
    botnet_year = botnet_day + await count_admitted(
        guard, clock, 364 * DAY, lambda n: (f"10.7.{n // 250}.{n % 250}", "ana")
    )
    assert botnet_year == 33 + 364 * 24


async def test_a_redis_outage_keeps_a_stricter_lane_per_process(stopped_redis_url: str) -> None:
    clock = Clock()
    guard = guard_on(Cache(make_redis(stopped_redis_url)), clock)
    admitted = [await try_once(guard, "10.6.0.1", "ana") for _ in range(4)]
    assert admitted == [None, None, 60, 60]  # half the free attempts, then the same waits
    admission = await guard.admit("10.6.0.2", "ana", device="browser-1", code_presented=False)
    assert isinstance(admission, Admission)
    assert admission.local
