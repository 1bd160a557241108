"""A program batch's references are checked set-based before it commits (no per-row FKs)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.ingest.references import DanglingReference, check_batch_references
from tests.factories import (
    create_batch,
    create_enrollment,
    create_household,
    create_person,
    create_roll_row,
)


async def raw(session: AsyncSession) -> asyncpg.Connection:
    """The session's own asyncpg connection: same transaction, rolled back after the test."""
    connection = await session.connection()
    dbapi: Any = await connection.get_raw_connection()
    return dbapi.driver_connection


class TestBatchReferences:
    async def test_a_consistent_batch_passes(self, session: AsyncSession) -> None:
        household = await create_household(session)
        person = await create_person(session, household=household)
        batch = await create_batch(session)
        row = await create_roll_row(session, batch=batch, person=person, household_id=household.id)
        await create_enrollment(
            session, person=person, batch=batch, roll_row=row, household_id=household.id
        )
        assert batch.id is not None
        await check_batch_references(await raw(session), batch.id, batch.source)

    async def test_an_enrollment_unlike_its_row_aborts(self, session: AsyncSession) -> None:
        """The load writes a row and its enrollment alike: a difference is a bug."""
        household, other = await create_household(session), await create_household(session)
        person = await create_person(session, household=household)
        batch = await create_batch(session)
        row = await create_roll_row(session, batch=batch, person=person, household_id=household.id)
        await create_enrollment(
            session, person=person, batch=batch, roll_row=row, household_id=other.id
        )
        assert batch.id is not None
        with pytest.raises(DanglingReference, match="enrollment_household 1"):
            await check_batch_references(await raw(session), batch.id, batch.source)

    @pytest.mark.parametrize(
        ("column", "kind"),
        [
            ("person_id", "enrollment_person"),
            ("household_id", "enrollment_household"),
            ("roll_row_id", "enrollment_row"),
        ],
    )
    async def test_a_dangling_enrollment_reference_aborts(
        self, session: AsyncSession, column: str, kind: str
    ) -> None:
        person = await create_person(session)
        batch = await create_batch(session)
        dangling: dict[str, Any] = {column: 2_000_000_000}
        await create_enrollment(session, person=person, batch=batch, **dangling)
        assert batch.id is not None
        with pytest.raises(DanglingReference, match=f"{kind} 1"):
            await check_batch_references(await raw(session), batch.id, batch.source)

    async def test_a_dangling_roll_row_person_aborts(self, session: AsyncSession) -> None:
        batch = await create_batch(session)
        conn = await raw(session)
        await conn.execute(
            "INSERT INTO roll_row (batch_id, row_number, person_id, outcome)"
            " VALUES ($1, '1', 2000000000, 'linked')",
            batch.id,
        )
        assert batch.id is not None
        with pytest.raises(DanglingReference, match="row_person 1"):
            await check_batch_references(conn, batch.id, batch.source)

    async def test_an_unknown_program_aborts(self, session: AsyncSession) -> None:
        batch = await create_batch(session, source="NO_SUCH_PROGRAM")
        assert batch.id is not None
        with pytest.raises(DanglingReference, match="batch_or_program"):
            await check_batch_references(await raw(session), batch.id, batch.source)
