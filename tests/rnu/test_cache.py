"""The data version a process reuses: fresh within its window, read again after it."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.cache import DataVersionMemo


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def bump(session: AsyncSession) -> None:
    conn = await session.connection()
    await conn.execute(text("UPDATE registry_state SET data_version = data_version + 1"))


class TestDataVersionMemo:
    async def test_reused_within_the_window_then_read_again(self, session: AsyncSession) -> None:
        clock = Clock()
        memo = DataVersionMemo(1.0, clock=clock)
        first = await memo.current(session)
        await bump(session)
        clock.now += 0.9
        assert await memo.current(session) == first  # a load is invisible for up to 1 s
        clock.now += 0.1
        assert await memo.current(session) == first + 1

    async def test_zero_reads_every_time(self, session: AsyncSession) -> None:
        memo = DataVersionMemo(0.0, clock=Clock())
        first = await memo.current(session)
        await bump(session)
        assert await memo.current(session) == first + 1
