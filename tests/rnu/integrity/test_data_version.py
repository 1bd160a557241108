"""Flags the checks write make cached answers stale (issue 11, item 13).

A batch bumps `data_version` when it commits; the checks run afterwards and write flags.
Without a second bump, statistics cached between the two keep the pre-check counts under
the new version for their whole TTL.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.integrity.service import check_batch
from tests.rnu.integrity.test_checks import Country, fetch


async def data_version(url: str) -> int:
    rows = await fetch(url, "SELECT data_version FROM registry_state WHERE id = 1")
    return int(rows[0][0])


async def test_checks_that_write_flags_bump_the_data_version(
    db: AsyncSession, integrity_url: str
) -> None:
    batch_id = await Country().build(db)
    before = await data_version(integrity_url)
    results = await check_batch(integrity_url, batch_id)
    assert sum(r.inserted for r in results) > 0
    after = await data_version(integrity_url)
    assert after > before


async def test_a_rerun_that_changes_nothing_keeps_the_version(
    db: AsyncSession, integrity_url: str
) -> None:
    batch_id = await Country().build(db)
    await check_batch(integrity_url, batch_id)
    before = await data_version(integrity_url)
    results = await check_batch(integrity_url, batch_id)
    assert all(r.inserted == r.updated == r.resolved == 0 for r in results)
    assert await data_version(integrity_url) == before
