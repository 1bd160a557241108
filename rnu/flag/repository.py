"""All SQL of the analysts' flag queue: filtering, paging, history, citizen-report intake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import case, func, insert, or_, select, text, update
from sqlalchemy.engine import RowMapping
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.batch.models import LoadBatch
from rnu.enrollment.models import Enrollment, RollRow
from rnu.flag.models import Flag
from rnu.person.models import Household, HouseholdMember, Person
from rnu.report.models import CitizenReport
from rnu.sqlexec import execute
from rnu.staff.models import Evidence, FieldTask, FlagEvent, StaffUser

REPORT_KIND = "citizen_report"
_Row = TypeVar("_Row", "ProgramSpell", "LinkedRow", "TaskLine", "FlagItem")


@dataclass(frozen=True)
class ProgramSpell:
    """One enrolment of the person, with the loaded row that put them there and why."""

    enrollment_id: int
    program_code: str
    period: str
    ubigeo: str | None
    status: str
    match_method: str
    match_weight: float | None
    agreements: dict[str, Any]
    row_number: str
    file_name: str


@dataclass(frozen=True)
class LinkedRow:
    """A loaded roll row linked to the person (two in one period: a duplicate shows)."""

    id: int
    row_number: str
    outcome: str
    method: str | None
    weight: float | None
    agreements: dict[str, Any]
    doc_type: str | None
    doc_number: str | None
    full_name: str
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    birth_on: date | None
    ubigeo: str | None
    file_name: str
    source: str
    period: str


@dataclass(frozen=True)
class TaskLine:
    """A field task of a flag, with its volunteer's username and organisation."""

    id: int
    status: str
    instructions: str
    finding: str | None
    answer: str | None
    created_by: str
    created_at: datetime
    answered_at: datetime | None
    assignee: str
    organisation: str | None


@dataclass(frozen=True)
class FlagItem:
    """One queue line: the flag and the person it is about (the labels of ``_LIST_COLUMNS``)."""

    id: int
    kind: str
    severity: str
    status: str
    program_code: str | None
    period: str | None
    ubigeo: str | None
    subject_key: str
    person_id: int | None
    assigned_to: str | None
    dismissed_reason: str | None
    created_at: datetime
    updated_at: datetime | None
    doc_type: str | None
    doc_number: str | None
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    pgh_key: str | None


def _typed(kind: type[_Row], rows: Sequence[RowMapping]) -> list[_Row]:
    """Rows of one of the SELECTs below as their record type (the labels are the fields)."""
    return [kind(**dict(r)) for r in rows]


@dataclass(frozen=True, kw_only=True)
class FlagFilter:
    """A filtered set of flags; every field None means "any"."""

    kind: str | None = None
    program_code: str | None = None
    period: str | None = None
    department: str | None = None  # 2-digit ubigeo prefix
    province: str | None = None  # 4-digit
    district: str | None = None  # 6-digit
    severity: str | None = None
    status: str | None = None
    assigned_to: str | None = None
    flag_ids: tuple[int, ...] | None = None


SEVERITY_RANK = case(
    (col(Flag.severity) == "high", 3), (col(Flag.severity) == "medium", 2), else_=1
)
SORTS: dict[str, Any] = {
    "created_at": col(Flag.created_at),
    "severity": SEVERITY_RANK,
    "kind": col(Flag.kind),
    "program": col(Flag.program_code),
    "period": col(Flag.period),
    "ubigeo": col(Flag.ubigeo),
    "status": col(Flag.status),
}


def _where(query: Any, f: FlagFilter) -> Any:
    # Any: the select's column tuple type varies per caller and only the WHERE is added here.
    if f.kind:
        query = query.where(col(Flag.kind) == f.kind)
    if f.program_code:
        query = query.where(col(Flag.program_code) == f.program_code)
    if f.period:
        query = query.where(col(Flag.period) == f.period)
    # The narrowest place given wins; prefixes use the btree as a range.
    place = f.district or f.province or f.department
    if place:
        query = query.where(col(Flag.ubigeo).startswith(place, autoescape=True))
    if f.severity:
        query = query.where(col(Flag.severity) == f.severity)
    if f.status:
        query = query.where(col(Flag.status) == f.status)
    if f.assigned_to:
        query = query.where(col(Flag.assigned_to) == f.assigned_to)
    if f.flag_ids is not None:
        query = query.where(col(Flag.id).in_(f.flag_ids))
    return query


_LIST_COLUMNS = (
    col(Flag.id),
    col(Flag.kind),
    col(Flag.severity),
    col(Flag.status),
    col(Flag.program_code),
    col(Flag.period),
    col(Flag.ubigeo),
    col(Flag.subject_key),
    col(Flag.person_id),
    col(Flag.assigned_to),
    col(Flag.dismissed_reason),
    col(Flag.created_at),
    col(Flag.updated_at),
    col(Person.doc_type),
    col(Person.doc_number),
    col(Person.nombres),
    col(Person.apellido_paterno),
    col(Person.apellido_materno),
    col(Person.pgh_key),
)


async def list_flags(
    session: AsyncSession,
    *,
    filters: FlagFilter,
    sort: str = "created_at",
    descending: bool = True,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[FlagItem], int]:
    """One page of the filtered queue with the person each flag is about, and the total."""
    order = SORTS[sort]
    query = _where(
        select(*_LIST_COLUMNS)
        .select_from(Flag)
        .outerjoin(Person, col(Person.id) == col(Flag.person_id)),
        filters,
    )
    query = query.order_by(order.desc() if descending else order.asc(), col(Flag.id).desc())
    rows = (await execute(session, query.offset(offset).limit(limit))).mappings().all()
    total_query = _where(select(func.count()).select_from(Flag), filters)
    total = int((await execute(session, total_query)).scalar_one())
    return _typed(FlagItem, rows), total


async def iter_flags(session: AsyncSession, *, filters: FlagFilter, limit: int) -> list[FlagItem]:
    """Every flag of the set (for exports), oldest first, up to ``limit``."""
    query = _where(
        select(*_LIST_COLUMNS)
        .select_from(Flag)
        .outerjoin(Person, col(Person.id) == col(Flag.person_id)),
        filters,
    ).order_by(col(Flag.id))
    return _typed(FlagItem, (await execute(session, query.limit(limit))).mappings().all())


async def flag_ids(session: AsyncSession, *, filters: FlagFilter, limit: int) -> list[int]:
    query = _where(select(col(Flag.id)).select_from(Flag), filters).order_by(col(Flag.id))
    return [int(i) for i in (await execute(session, query.limit(limit + 1))).scalars()]


async def get_flag(session: AsyncSession, *, flag_id: int) -> Flag | None:
    return await session.get(Flag, flag_id)


async def lock_flags(session: AsyncSession, *, ids: Sequence[int]) -> list[Flag]:
    """The flags, locked for update so two analysts' actions serialise."""
    query = select(Flag).where(col(Flag.id).in_(ids)).order_by(col(Flag.id)).with_for_update()
    return list((await execute(session, query)).scalars().all())


async def set_flags(session: AsyncSession, *, ids: Sequence[int], values: dict[str, Any]) -> None:
    await execute(session, update(Flag).where(col(Flag.id).in_(ids)).values(**values))


async def add_events(session: AsyncSession, *, rows: list[dict[str, Any]]) -> None:
    if rows:
        await execute(session, insert(FlagEvent), rows)


async def list_events(session: AsyncSession, *, flag_id: int) -> list[FlagEvent]:
    query = (
        select(FlagEvent)
        .where(col(FlagEvent.flag_id) == flag_id)
        .order_by(col(FlagEvent.at), col(FlagEvent.id))
    )
    return list((await execute(session, query)).scalars().all())


async def get_person(session: AsyncSession, *, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def get_household_of(session: AsyncSession, *, person_id: int) -> Household | None:
    query = (
        select(Household)
        .join(HouseholdMember, col(HouseholdMember.household_id) == Household.id)
        .where(col(HouseholdMember.person_id) == person_id)
    )
    found: Household | None = (await execute(session, query)).scalars().first()
    return found


async def person_history(session: AsyncSession, *, person_id: int) -> list[ProgramSpell]:
    """The person's programs over time, each with the row that put them there and why."""
    query = (
        select(
            col(Enrollment.id).label("enrollment_id"),
            col(Enrollment.program_code),
            col(Enrollment.period),
            col(Enrollment.ubigeo),
            col(Enrollment.status),
            col(Enrollment.match_method),
            col(Enrollment.match_weight),
            col(RollRow.agreements),
            col(RollRow.row_number),
            col(LoadBatch.file_name),
        )
        .join(RollRow, col(RollRow.id) == Enrollment.roll_row_id)
        .join(LoadBatch, col(LoadBatch.id) == Enrollment.batch_id)
        .where(col(Enrollment.person_id) == person_id)
        .order_by(col(Enrollment.period).desc(), col(Enrollment.program_code))
    )
    return _typed(ProgramSpell, (await execute(session, query)).mappings().all())


async def roll_rows_of(
    session: AsyncSession, *, person_id: int, program_code: str | None, period: str | None
) -> list[LinkedRow]:
    """Every loaded row linked to the person in this program and period (duplicates show)."""
    query = (
        select(
            col(RollRow.id),
            col(RollRow.row_number),
            col(RollRow.outcome),
            col(RollRow.method),
            col(RollRow.weight),
            col(RollRow.agreements),
            col(RollRow.doc_type),
            col(RollRow.doc_number),
            col(RollRow.full_name),
            col(RollRow.nombres),
            col(RollRow.apellido_paterno),
            col(RollRow.apellido_materno),
            col(RollRow.birth_on),
            col(RollRow.ubigeo),
            col(LoadBatch.file_name),
            col(LoadBatch.source),
            col(LoadBatch.period),
        )
        .join(LoadBatch, col(LoadBatch.id) == RollRow.batch_id)
        .where(col(RollRow.person_id) == person_id, col(LoadBatch.status) == "committed")
        .order_by(col(LoadBatch.period).desc(), col(RollRow.id))
    )
    if program_code:
        query = query.where(col(LoadBatch.source) == program_code)
    if period:
        query = query.where(col(LoadBatch.period) == period)
    return _typed(LinkedRow, (await execute(session, query.limit(50))).mappings().all())


async def reports_about(
    session: AsyncSession, *, person_id: int | None, report_ids: Sequence[int]
) -> list[CitizenReport]:
    """Citizen reports pointing at this person's enrollments, or named by id."""
    conditions: list[Any] = []
    if report_ids:
        conditions.append(col(CitizenReport.id).in_(report_ids))
    if person_id is not None:
        enrolled = select(col(Enrollment.id)).where(col(Enrollment.person_id) == person_id)
        conditions.append(col(CitizenReport.enrollment_id).in_(enrolled))
    if not conditions:
        return []
    query = select(CitizenReport).where(or_(*conditions)).order_by(col(CitizenReport.id))
    return list((await execute(session, query)).scalars().all())


async def tasks_of(session: AsyncSession, *, flag_id: int) -> list[TaskLine]:
    query: Any = (
        select(
            col(FieldTask.id),
            col(FieldTask.status),
            col(FieldTask.instructions),
            col(FieldTask.finding),
            col(FieldTask.answer),
            col(FieldTask.created_by),
            col(FieldTask.created_at),
            col(FieldTask.answered_at),
            col(StaffUser.username).label("assignee"),
            col(StaffUser.organisation),
        )
        .join(StaffUser, col(StaffUser.id) == FieldTask.assignee_id)
        .where(col(FieldTask.flag_id) == flag_id)
        .order_by(col(FieldTask.id))
    )
    return _typed(TaskLine, (await execute(session, query)).mappings().all())


async def evidence_of_report(session: AsyncSession, *, report_ids: Sequence[int]) -> list[Evidence]:
    if not report_ids:
        return []
    query = select(Evidence).where(col(Evidence.report_id).in_(report_ids))
    return list((await execute(session, query.order_by(col(Evidence.id)))).scalars().all())


_SYNC_REPORTS = text(
    """
    INSERT INTO flag (kind, severity, subject_key, person_id, household_id, program_code,
                      period, ubigeo, evidence, status, created_at)
    SELECT CAST(:kind AS varchar), 'medium', 'report:' || r.id,
           coalesce(r.person_id, e.person_id), e.household_id,
           coalesce(r.program_code, e.program_code),
           coalesce(r.period, e.period), coalesce(e.ubigeo, r.ubigeo),
           jsonb_build_object('report_id', r.id, 'tracking_code', r.tracking_code,
                              'reason_code', r.reason_code, 'text', r.text,
                              'reporter_role', r.reporter_role,
                              'duplicate_count', r.duplicate_count, 'is_burst', r.is_burst,
                              'enrollment_id', r.enrollment_id),
           'open', r.created_at
    FROM citizen_report r LEFT JOIN enrollment e ON e.id = r.enrollment_id
    WHERE NOT EXISTS (SELECT 1 FROM flag f
                      WHERE f.kind = :kind AND f.subject_key = 'report:' || r.id)
    """
)


async def sync_reports(session: AsyncSession) -> int:
    """Give every citizen report without one a flag of kind ``citizen_report``.

    The report then sits in the same queue as the checks' flags, with the same filters and
    actions, linked to the person of the enrollment it points at. Safe to run concurrently:
    an advisory lock serialises the intake and the anti-join skips reports already in.
    """
    await execute(session, text("SELECT pg_advisory_xact_lock(hashtext('rnu:sync_reports'))"))
    result = await execute(session, _SYNC_REPORTS, {"kind": REPORT_KIND})
    return int(getattr(result, "rowcount", 0) or 0)
