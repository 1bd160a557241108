"""A program batch's references are checked set-based before it commits (no per-row FKs)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.batch.models import LoadBatch
from rnu.enrollment.models import RollRow
from rnu.ingest.references import ChunkReferences, DanglingReference, check_batch_references
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


async def _enrolled_row(session: AsyncSession) -> tuple[LoadBatch, RollRow]:
    """A batch with one linked row and its enrollment, alike as a load writes them."""
    household = await create_household(session)
    person = await create_person(session, household=household)
    batch = await create_batch(session)
    row = await create_roll_row(session, batch=batch, person=person, household_id=household.id)
    await create_enrollment(
        session, person=person, batch=batch, roll_row=row, household_id=household.id
    )
    return batch, row


class TestBatchReferences:
    async def test_a_consistent_batch_passes(self, session: AsyncSession) -> None:
        batch, row = await _enrolled_row(session)
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


class TestChunkReferences:
    """The load's own check, chunk by chunk, then the batch's enrollments accounted for."""

    async def test_a_consistent_chunk_passes_and_accounts_for_its_enrollment(
        self, session: AsyncSession
    ) -> None:
        batch, row = await _enrolled_row(session)
        assert batch.id is not None
        assert row.id is not None
        conn = await raw(session)
        check = ChunkReferences(batch.id, batch.source, batch.period)
        await check.check(conn, [row.id])
        assert check.vouched == 1
        await check.finish(conn, enrolled=1)

    async def test_a_dangling_row_person_in_a_chunk_aborts(self, session: AsyncSession) -> None:
        batch = await create_batch(session)
        conn = await raw(session)
        row_id = await conn.fetchval(
            "INSERT INTO roll_row (batch_id, row_number, person_id, outcome)"
            " VALUES ($1, '1', 2000000000, 'linked') RETURNING id",
            batch.id,
        )
        assert batch.id is not None
        check = ChunkReferences(batch.id, batch.source, batch.period)
        with pytest.raises(DanglingReference, match="row_person 1"):
            await check.check(conn, [row_id])

    async def test_an_enrollment_no_checked_row_accounts_for_aborts(
        self, session: AsyncSession
    ) -> None:
        """An enrollment pointing at another row (here: a row of no chunk) is found out."""
        person = await create_person(session)
        batch = await create_batch(session)
        checked = await create_roll_row(session, batch=batch, person=person)
        await create_enrollment(session, person=person, batch=batch)  # its own, unchecked row
        assert batch.id is not None
        assert checked.id is not None
        conn = await raw(session)
        check = ChunkReferences(batch.id, batch.source, batch.period)
        await check.check(conn, [checked.id])
        assert check.vouched == 0
        with pytest.raises(DanglingReference, match="enrollment_unaccounted 1"):
            await check.finish(conn, enrolled=1)

    async def test_an_unknown_program_aborts_at_the_end(self, session: AsyncSession) -> None:
        batch = await create_batch(session, source="NO_SUCH_PROGRAM")
        assert batch.id is not None
        check = ChunkReferences(batch.id, batch.source, batch.period)
        with pytest.raises(DanglingReference, match="batch_or_program"):
            await check.finish(await raw(session), enrolled=0)
