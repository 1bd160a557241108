"""The migrations build the schema from nothing, are idempotent and undo cleanly."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.embedded import plain_url
from rnu.errors import InvalidInput
from rnu.migrate import downgrade, heads, revisions, upgrade
from tests.conftest import drop_test_database, make_test_database
from tests.factories import create_batch, create_enrollment, create_household, create_person


async def table_names(url: str) -> set[str]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


@pytest.mark.slow
class TestMigrations:
    def test_upgrade_is_idempotent_and_downgrade_undoes(self, server_url: str) -> None:
        url = make_test_database(server_url, prefix="rnu_migr")
        try:
            assert asyncio.run(table_names(url)) == set()
            upgrade(url)
            tables = asyncio.run(table_names(url))
            assert {"person", "household", "enrollment", "load_batch", "flag"} <= tables
            upgrade(url)  # second run: no error, same schema
            assert asyncio.run(table_names(url)) == tables
            downgrade(url, "base")
            assert asyncio.run(table_names(url)) == {"alembic_version"}
            upgrade(url)
            assert asyncio.run(table_names(url)) == tables
        finally:
            drop_test_database(server_url, url)

    def test_single_head(self) -> None:
        assert len(heads()) == 1

    def test_an_unknown_revision_is_an_invalid_input_naming_the_known(
        self, database_url: str
    ) -> None:
        """`rnu db downgrade nope` was Alembic's CommandError traceback."""
        with pytest.raises(InvalidInput, match="cannot downgrade to 'nope'.*known: base, 0001"):
            downgrade(database_url, "nope")
        assert heads()[0] in revisions()


class TestConstraints:
    async def test_duplicate_enrollment_is_rejected(self, session: AsyncSession) -> None:
        household = await create_household(session)
        person = await create_person(session, household=household)
        batch = await create_batch(session)
        await create_enrollment(session, person=person, batch=batch)
        with pytest.raises(IntegrityError, match="uq_enrollment_person_id"):
            await create_enrollment(session, person=person, batch=batch)

    async def test_same_file_twice_for_a_period_is_rejected(self, session: AsyncSession) -> None:
        await create_batch(session, sha256="a" * 64)
        with pytest.raises(IntegrityError, match="uq_load_batch_source"):
            await create_batch(session, sha256="a" * 64)

    async def test_unknown_cse_is_rejected(self, session: AsyncSession) -> None:
        with pytest.raises(IntegrityError, match="ck_household_cse_known"):
            await create_household(session, cse="XX")
