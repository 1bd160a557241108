"""A database of its own for the integrity checks, which commit on raw connections.

The shared savepoint session cannot hold work done by asyncpg connections the checks open
themselves, so these tests build rows with the factories on a committing session of this
database and empty the data tables after each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import plain_url
from rnu.migrate import upgrade
from tests.conftest import drop_test_database, make_test_database

DATA_TABLES = (
    "flag",
    "enrollment",
    "match_review_item",
    "roll_row",
    "death_record",
    "quarantined_row",
    "household_member",
    "person",
    "household",
    "load_batch",
)


@pytest.fixture(scope="module")
def integrity_url(server_url: str) -> Iterator[str]:
    url = make_test_database(server_url, prefix="rnu_integrity")
    upgrade(url)
    from rnu.program.service import sync_programs_sync

    sync_programs_sync(url)
    yield url
    drop_test_database(server_url, url)


@pytest.fixture
async def integrity_engine(integrity_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(integrity_url, pool_size=2, role="test-integrity")
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(integrity_engine: AsyncEngine, integrity_url: str) -> AsyncIterator[AsyncSession]:
    """A committing session; every data table is emptied afterwards."""
    async with make_sessionmaker(integrity_engine)() as session:
        yield session
    conn = await asyncpg.connect(plain_url(integrity_url))
    try:
        await conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} CASCADE")
    finally:
        await conn.close()
