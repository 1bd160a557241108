"""The match review queue: a grey-zone row beside its candidates, and the analyst's decision.

A decision applies at once: the roll row gets its person (an existing PGH person, or a new
person outside the PGH), the enrollment is written when the batch is the period's roll, the
data version is bumped so cached answers go stale, and the integrity checks of that program
and period are re-run when ``rnu.integrity`` offers an incremental entry point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.audit import service as audit
from rnu.base import utcnow
from rnu.batch.models import LoadBatch
from rnu.enrollment.models import Enrollment, RollRow
from rnu.errors import Conflict, InvalidInput, NotFound
from rnu.integrity.service import check_program_period
from rnu.person.models import Household, Person
from rnu.review import repository
from rnu.review.models import MatchReviewItem

log = logging.getLogger("rnu.review")

DECISIONS = ("link", "new_person", "distinct")
METHOD = "manual_review"
MAX_PAGE_SIZE = 100
ROW_FIELDS = ("dni", "nombres", "apellido_paterno", "apellido_materno", "birth_date")

# Levels of rnu.matching.scoring.FIELDS, grouped for the side-by-side highlight.
_AGREE = {"exact", "straight", "same", "district", "equal"}
_MISSING = {"missing"}
_DISAGREE = {"different", "swapped", "none"}


def agreement_class(level: str | None) -> str:
    """'agree' | 'partial' | 'disagree' | 'missing': how a field level is highlighted."""
    if level is None or level in _MISSING:
        return "missing"
    if level in _AGREE:
        return "agree"
    if level in _DISAGREE:
        return "disagree"
    return "partial"


@dataclass(frozen=True)
class ReviewListItem:
    id: int
    status: str
    program_code: str
    period: str
    file_name: str
    row_number: str
    full_name: str
    doc_type: str | None
    doc_number: str | None
    ubigeo: str | None
    candidates: int
    best_weight: float | None


@dataclass(frozen=True)
class ReviewPage:
    items: list[ReviewListItem]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class CandidateView:
    """One candidate person with the field levels that compare them to the row."""

    person: Person
    household: Household | None
    weight: float
    agreements: dict[str, str]

    def highlight(self, field_name: str) -> str:
        return agreement_class(self.agreements.get(field_name))


@dataclass(frozen=True)
class ReviewDetail:
    item: MatchReviewItem
    row: RollRow
    batch: LoadBatch
    candidates: list[CandidateView]


@dataclass(frozen=True)
class DecisionResult:
    item_id: int
    decision: str
    person_id: int
    enrollment_id: int | None
    program_code: str
    period: str
    checks_rerun: bool


_subject = audit.document_subject


def _list_item(row: RowMapping) -> ReviewListItem:
    candidates: list[dict[str, Any]] = list(row["candidates"] or [])
    weights = [float(c.get("weight", 0.0)) for c in candidates]
    name = row["full_name"] or " ".join(
        p for p in (row["nombres"], row["apellido_paterno"], row["apellido_materno"]) if p
    )
    return ReviewListItem(
        id=int(row["id"]),
        status=str(row["status"]),
        program_code=str(row["source"]),
        period=str(row["period"]),
        file_name=str(row["file_name"]),
        row_number=str(row["row_number"]),
        full_name=name,
        doc_type=row["doc_type"],
        doc_number=row["doc_number"],
        ubigeo=row["ubigeo"],
        candidates=len(candidates),
        best_weight=max(weights) if weights else None,
    )


async def list_queue(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    secret: bytes,
    status: str = "open",
    program_code: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> ReviewPage:
    """One page of review items (oldest first); the rows' people are audited as read."""
    if status not in ("open", "linked", "new_person", "distinct"):
        raise InvalidInput("unknown review status")
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    rows, total = await repository.list_items(
        session,
        status=status,
        program_code=program_code,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    items = [_list_item(r) for r in rows]
    await audit.record_reads(
        session,
        actor=actor,
        action="review.list",
        subjects=(_subject(secret, i.doc_type, i.doc_number) for i in items),
        fields=ROW_FIELDS,
    )
    return ReviewPage(items=items, total=total, page=page, page_size=page_size)


async def _detail(session: AsyncSession, item: MatchReviewItem) -> ReviewDetail:
    row = await repository.get_row(session, row_id=item.roll_row_id)
    batch = await repository.get_batch(session, batch_id=item.batch_id)
    if row is None or batch is None:
        raise NotFound("review item without its row")
    keys = [str(c["person_key"]) for c in item.candidates if c.get("person_key")]
    people = await repository.persons_by_key(session, keys=keys)
    households = await repository.households_of(
        session, person_ids=[p.id for p in people.values() if p.id is not None]
    )
    candidates = [
        CandidateView(
            person=people[key],
            household=households.get(people[key].id or 0),
            weight=float(c.get("weight", 0.0)),
            agreements={str(k): str(v) for k, v in (c.get("agreements") or {}).items()},
        )
        for c in item.candidates
        if (key := str(c.get("person_key"))) in people
    ]
    candidates.sort(key=lambda c: -c.weight)
    return ReviewDetail(item=item, row=row, batch=batch, candidates=candidates)


async def get_detail(
    session: AsyncSession, *, actor: audit.Actor, secret: bytes, item_id: int
) -> ReviewDetail:
    """The row and its candidates side by side; the row's and candidates' people are audited."""
    item = await repository.get_item(session, item_id=item_id)
    if item is None:
        raise NotFound("no such review item")
    detail = await _detail(session, item)
    subjects = [_subject(secret, detail.row.doc_type, detail.row.doc_number)]
    subjects += [
        _subject(secret, c.person.doc_type, c.person.doc_number) for c in detail.candidates
    ]
    await audit.record_reads(
        session,
        actor=actor,
        action="review.view",
        subjects=subjects,
        fields=ROW_FIELDS,
        details={"review_item_id": item_id},
    )
    return detail


async def _new_person(session: AsyncSession, row: RollRow, *, reuse: bool) -> Person:
    if reuse and row.doc_type and row.doc_number:
        existing = await repository.find_unlisted_person(
            session, doc_type=row.doc_type, doc_number=row.doc_number
        )
        if existing is not None:
            return existing
    person = Person(
        in_pgh=False,
        doc_type=row.doc_type if row.doc_number else None,
        doc_number=row.doc_number if row.doc_type else None,
        nombres=row.nombres or row.full_name or "",
        apellido_paterno=row.apellido_paterno or "",
        apellido_materno=row.apellido_materno,
        birth_on=row.birth_on,
        sex=row.sex,
        ubigeo=row.ubigeo,
    )
    session.add(person)
    await session.flush()
    return person


async def decide(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    secret: bytes,
    item_id: int,
    decision: str,
    person_key: str | None = None,
) -> DecisionResult:
    """Apply an analyst's decision on a review item at once.

    ``link``: the row is the candidate ``person_key``; ``new_person``: a new person outside
    the PGH is created for it; ``distinct``: it is none of the candidates, and is resolved as
    loads resolve unmatched rows (the person outside the PGH with the same document, else new).
    """
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}")
    item = await repository.lock_item(session, item_id=item_id)
    if item is None:
        raise NotFound("no such review item")
    if item.status != "open":
        raise Conflict("this review item was already decided")
    detail = await _detail(session, item)
    row, batch = detail.row, detail.batch
    weight: float | None = None
    agreements: dict[str, Any] = {}
    if decision == "link":
        chosen = next((c for c in detail.candidates if c.person.pgh_key == person_key), None)
        if chosen is None:
            raise InvalidInput("person_key must be one of the item's candidates")
        person = chosen.person
        weight, agreements = chosen.weight, dict(chosen.agreements)
        outcome, status = "linked", "linked"
    else:
        person = await _new_person(session, row, reuse=decision == "distinct")
        outcome, status = "unmatched", decision
    assert person.id is not None
    assert item.id is not None
    assert row.id is not None
    household_id = await repository.household_id_of(session, person_id=person.id)
    agreements["decided_by"] = actor.id
    row.person_id = person.id
    row.household_id = household_id
    row.outcome = outcome
    row.method = METHOD
    row.weight = weight
    row.agreements = agreements
    session.add(row)
    enrollment_id: int | None = None
    if batch.status == "committed":
        existing = await repository.get_enrollment(
            session, person_id=person.id, program_code=batch.source, period=batch.period
        )
        if existing is None:
            enrollment = Enrollment(
                person_id=person.id,
                program_code=batch.source,
                period=batch.period,
                household_id=household_id,
                ubigeo=row.ubigeo or person.ubigeo,
                batch_id=batch.id or 0,
                roll_row_id=row.id,
                match_method=METHOD,
                match_weight=weight,
                match_evidence=agreements,
            )
            session.add(enrollment)
            await session.flush()
            enrollment_id = enrollment.id
        else:
            # A second row for someone already enrolled stays a row: the duplicate check
            # (duplicate_in_program) is what should see it.
            enrollment_id = existing.id
    item.status = status
    item.decided_by = actor.id
    item.decided_at = utcnow()
    session.add(item)
    await session.flush()
    await repository.bump_data_version(session)
    await audit.record(
        session,
        actor=actor,
        action=f"review.{decision}",
        subject_hmac=_subject(secret, person.doc_type, person.doc_number),
        details={"review_item_id": item.id, "roll_row_id": row.id, "person_id": person.id},
    )
    rerun = await _rerun_checks(session, program_code=batch.source, period=batch.period)
    return DecisionResult(
        item_id=item.id,
        decision=decision,
        person_id=person.id,
        enrollment_id=enrollment_id,
        program_code=batch.source,
        period=batch.period,
        checks_rerun=rerun,
    )


@dataclass(frozen=True)
class ConfirmResult:
    roll_row_id: int
    person_id: int
    program_code: str
    period: str
    checks_rerun: bool


async def confirm_link(
    session: AsyncSession, *, actor: audit.Actor, secret: bytes, roll_row_id: int
) -> ConfirmResult:
    """A reviewer confirms a link the engine made on its own (fuzzy, near the threshold).

    Flags resting on such a link are held "por verificar" (``rnu.integrity``); once a person
    has confirmed it the link is a reviewed one (method ``manual_review``) and the checks of
    that program and period re-run, so its flags become normal ones. A row waiting in the
    review queue is decided there (``decide``), not here.
    """
    row = await repository.get_row(session, row_id=roll_row_id)
    if row is None:
        raise NotFound("no such roll row")
    if row.outcome != "linked" or row.person_id is None:
        raise Conflict("only a linked row's link can be confirmed; rows in review are decided")
    batch = await repository.get_batch(session, batch_id=row.batch_id)
    person = await session.get(Person, row.person_id)
    if batch is None or person is None:
        raise NotFound("roll row without its batch or person")
    assert row.id is not None
    agreements = dict(row.agreements or {})
    agreements["confirmed_by"] = actor.id
    agreements["method_before"] = row.method
    row.method = METHOD
    row.agreements = agreements
    session.add(row)
    enrollment = await repository.get_enrollment(
        session, person_id=row.person_id, program_code=batch.source, period=batch.period
    )
    if enrollment is not None and enrollment.roll_row_id == row.id:
        enrollment.match_method = METHOD
        session.add(enrollment)
    await session.flush()
    await repository.bump_data_version(session)
    await audit.record(
        session,
        actor=actor,
        action="review.confirm_link",
        subject_hmac=_subject(secret, person.doc_type, person.doc_number),
        details={"roll_row_id": row.id, "person_id": row.person_id},
    )
    rerun = await _rerun_checks(session, program_code=batch.source, period=batch.period)
    return ConfirmResult(row.id, row.person_id, batch.source, batch.period, rerun)


async def _rerun_checks(session: AsyncSession, *, program_code: str, period: str) -> bool:
    """Re-run the integrity checks of one program and period inside this transaction.

    ``rnu.integrity`` works on a raw asyncpg connection: it gets the session's own, so the
    decision and the flags it changes commit together. Its transaction block nests as a
    savepoint; a failing check is logged and leaves the decision applied (the next full
    ``rnu check`` catches up), rather than refusing the analyst's decision.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    try:
        await check_program_period(raw.driver_connection, program_code, period)
    except Exception:  # the checks' failure must not undo the decision
        log.exception("integrity re-run after a review decision failed")
        return False
    return True
