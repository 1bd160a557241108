"""All SQL of the match review queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import RowMapping
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.batch.models import LoadBatch
from rnu.enrollment.models import Enrollment, RollRow
from rnu.person.models import Household, HouseholdMember, Person
from rnu.review.models import MatchReviewItem
from rnu.sqlexec import execute


async def list_items(
    session: AsyncSession,
    *,
    status: str,
    program_code: str | None,
    offset: int,
    limit: int,
) -> tuple[list[RowMapping], int]:
    query: Any = (
        select(
            col(MatchReviewItem.id),
            col(MatchReviewItem.status),
            col(MatchReviewItem.candidates),
            col(MatchReviewItem.created_at),
            col(LoadBatch.source),
            col(LoadBatch.period),
            col(LoadBatch.file_name),
            col(RollRow.row_number),
            col(RollRow.doc_type),
            col(RollRow.doc_number),
            col(RollRow.full_name),
            col(RollRow.nombres),
            col(RollRow.apellido_paterno),
            col(RollRow.apellido_materno),
            col(RollRow.ubigeo),
        )
        .join(RollRow, col(RollRow.id) == MatchReviewItem.roll_row_id)
        .join(LoadBatch, col(LoadBatch.id) == MatchReviewItem.batch_id)
        .where(col(MatchReviewItem.status) == status)
    )
    count: Any = (
        select(func.count())
        .select_from(MatchReviewItem)
        .join(LoadBatch, col(LoadBatch.id) == MatchReviewItem.batch_id)
        .where(col(MatchReviewItem.status) == status)
    )
    if program_code:
        query = query.where(col(LoadBatch.source) == program_code)
        count = count.where(col(LoadBatch.source) == program_code)
    query = query.order_by(col(MatchReviewItem.id)).offset(offset).limit(limit)
    rows = (await execute(session, query)).mappings().all()
    return list(rows), int((await execute(session, count)).scalar_one())


async def lock_item(session: AsyncSession, *, item_id: int) -> MatchReviewItem | None:
    query = select(MatchReviewItem).where(col(MatchReviewItem.id) == item_id).with_for_update()
    found: MatchReviewItem | None = (await execute(session, query)).scalars().first()
    return found


async def get_item(session: AsyncSession, *, item_id: int) -> MatchReviewItem | None:
    return await session.get(MatchReviewItem, item_id)


async def get_row(session: AsyncSession, *, row_id: int) -> RollRow | None:
    return await session.get(RollRow, row_id)


async def get_batch(session: AsyncSession, *, batch_id: int) -> LoadBatch | None:
    return await session.get(LoadBatch, batch_id)


async def persons_by_key(session: AsyncSession, *, keys: Sequence[str]) -> dict[str, Person]:
    if not keys:
        return {}
    query = select(Person).where(col(Person.pgh_key).in_(keys))
    return {p.pgh_key: p for p in (await execute(session, query)).scalars() if p.pgh_key}


async def households_of(
    session: AsyncSession, *, person_ids: Sequence[int]
) -> dict[int, Household]:
    if not person_ids:
        return {}
    query = (
        select(col(HouseholdMember.person_id), Household)
        .join(Household, col(Household.id) == HouseholdMember.household_id)
        .where(col(HouseholdMember.person_id).in_(person_ids))
    )
    return {int(pid): hh for pid, hh in (await execute(session, query)).all()}


async def find_unlisted_person(
    session: AsyncSession, *, doc_type: str, doc_number: str
) -> Person | None:
    """A person outside the PGH already holding this document (reused, as loads do)."""
    query = select(Person).where(
        col(Person.in_pgh).is_(False),
        col(Person.doc_type) == doc_type,
        col(Person.doc_number) == doc_number,
    )
    found: Person | None = (await execute(session, query)).scalars().first()
    return found


async def household_id_of(session: AsyncSession, *, person_id: int) -> int | None:
    query = select(col(HouseholdMember.household_id)).where(
        col(HouseholdMember.person_id) == person_id
    )
    value = (await execute(session, query)).scalar_one_or_none()
    return int(value) if value is not None else None


async def get_enrollment(
    session: AsyncSession, *, person_id: int, program_code: str, period: str
) -> Enrollment | None:
    query = select(Enrollment).where(
        col(Enrollment.person_id) == person_id,
        col(Enrollment.program_code) == program_code,
        col(Enrollment.period) == period,
    )
    found: Enrollment | None = (await execute(session, query)).scalars().first()
    return found


async def bump_data_version(session: AsyncSession) -> None:
    """A decision changes rolls: cached answers keyed on the old version go stale."""
    await execute(
        session, text("UPDATE registry_state SET data_version = data_version + 1 WHERE id = 1")
    )
