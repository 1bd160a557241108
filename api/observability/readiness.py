"""Readiness: each dependency checked apart; ready needs PostgreSQL only."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text

from api.state import AppState


async def _check_database(engine: Any) -> str:
    try:
        async with asyncio.timeout(2):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # readiness must report, never raise
        return f"error: {type(exc).__name__}"


async def readiness(st: AppState) -> tuple[bool, dict[str, str]]:
    """Each dependency checked apart. Ready needs PostgreSQL; Redis and the replica are
    reported but optional: without them the API still answers (slower), so it must stay in the
    load balancer."""
    checks: dict[str, str] = {}
    primary, replica = await asyncio.gather(
        _check_database(st.engine),
        _check_database(st.read_engine) if st.read_engine is not None else _none(),
    )
    checks["postgres"] = primary
    if replica is not None:
        checks["postgres_replica"] = replica
        (
            st.replica_health.record_success
            if replica == "ok"
            else st.replica_health.record_failure
        )()
    try:
        async with asyncio.timeout(0.5):
            await st.redis.ping()
        checks["redis"] = "ok"
    except (RedisError, OSError, TimeoutError) as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    return primary == "ok", checks


async def _none() -> None:
    return None
