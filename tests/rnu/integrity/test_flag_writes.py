"""Two runs writing the same program period's flags: the second waits, then finds them."""

from __future__ import annotations

import asyncio

import asyncpg

from rnu.db import connect_raw
from rnu.integrity import checks
from rnu.integrity.repository import write_flags

_STAGE = (
    "INSERT INTO chk_flag VALUES ('deceased', 'high', 'person:1', NULL, NULL, NULL, NULL, '{}')"
)


async def _stage_and_write(conn: asyncpg.Connection) -> tuple[int, int, int]:
    await conn.execute(checks.DROP_STAGING)
    await conn.execute(checks.CREATE_FLAG_STAGING)
    await conn.execute(_STAGE)
    return await write_flags(conn, program="SIS", period="2026-10", kinds=["deceased"])


async def _waits_for_advisory_lock(watcher: asyncpg.Connection, pid: int) -> bool:
    for _ in range(500):
        event = await watcher.fetchval(
            "SELECT wait_event FROM pg_stat_activity WHERE pid = $1", pid
        )
        if event == "advisory":
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_concurrent_run_of_the_same_scope_waits_and_writes_no_duplicate(
    integrity_url: str,
) -> None:
    first, second = await connect_raw(integrity_url), await connect_raw(integrity_url)
    try:
        second_pid = await second.fetchval("SELECT pg_backend_pid()")
        tx = first.transaction()
        await tx.start()
        assert await _stage_and_write(first) == (1, 0, 0)

        async def run_second() -> tuple[int, int, int]:
            async with second.transaction():
                return await _stage_and_write(second)

        waiting = asyncio.create_task(run_second())
        # The plain INSERT is only exact while no other run of the scope writes: the second
        # run must wait on the scope's lock, not find no flag and insert a second one.
        assert await _waits_for_advisory_lock(first, second_pid)
        await tx.commit()
        assert await waiting == (0, 0, 0)
        assert await first.fetchval("SELECT count(*) FROM flag WHERE kind = 'deceased'") == 1
    finally:
        await first.execute("DELETE FROM flag")
        await first.close()
        await second.close()
