"""Redis plumbing: one client factory with short, explicit timeouts."""

from __future__ import annotations

from redis.asyncio import Redis


def make_redis(redis_url: str, *, timeout_s: float = 0.15) -> Redis:
    """A client that gives up fast: Redis is a cache, so waiting on it is worse than a miss."""
    return Redis.from_url(
        redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry_on_timeout=False,
        health_check_interval=30,
    )
