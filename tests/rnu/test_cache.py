"""The data version a process reuses: fresh within its window, read again after it."""

from __future__ import annotations

import asyncio

import pytest
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

    async def test_concurrent_requests_share_one_read(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Before, every request that found the memo stale read the version itself: at 50
        # clients a burst of reads (and pool connects) once a second. Now one reads, the
        # others wait for it. The read is the real one, counted on its way through.
        import rnu.cache

        reads = 0
        real = rnu.cache.read_data_version

        async def counted(s: AsyncSession) -> int:
            nonlocal reads
            reads += 1
            await asyncio.sleep(0.05)  # a slow database: the others arrive meanwhile
            return await real(s)

        monkeypatch.setattr(rnu.cache, "read_data_version", counted)
        memo = DataVersionMemo(1.0, clock=Clock())
        versions = await asyncio.gather(*(memo.current(session) for _ in range(20)))
        assert reads == 1
        assert len(set(versions)) == 1

    async def test_a_failed_read_leaves_the_waiters_to_read_themselves(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import rnu.cache

        calls = 0
        real = rnu.cache.read_data_version

        async def first_fails(s: AsyncSession) -> int:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.02)
            if calls == 1:
                raise OSError("connection reset")
            return await real(s)

        monkeypatch.setattr(rnu.cache, "read_data_version", first_fails)
        memo = DataVersionMemo(1.0, clock=Clock())
        results = await asyncio.gather(
            *(memo.current(session) for _ in range(3)), return_exceptions=True
        )
        assert isinstance(results[0], OSError)  # the reader's own error is its own
        assert all(isinstance(r, int) for r in results[1:])


def test_a_lookup_answer_of_the_previous_shape_is_never_read_back() -> None:
    """Answers cached or warmed by the release before the access log's new fields (issue 13.4)
    sat under the same data version: read back as the new model they failed validation."""
    from rnu.cache import key, lookup_key

    old = key(7, "lookup", "citizen", "s", "f")
    assert lookup_key(7, "citizen", "s", "f") != old
    assert lookup_key(7, "citizen", "s", "f").startswith("rnu:7:lookup")
