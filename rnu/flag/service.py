"""The analysts' flag queue: browse, open, confirm, dismiss, assign, comment, export.

Every read of a person's data through the queue writes audit rows (one per person shown) and
every action writes a flag event and an audit row, all in the caller's transaction. Citizen
reports enter the queue as flags of kind ``citizen_report`` (``sync_reports``), so they share
the filters, actions and exports of the checks' flags.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.audit import service as audit
from rnu.base import utcnow
from rnu.errors import Conflict, InvalidInput, NotFound
from rnu.flag import repository
from rnu.flag.models import Flag
from rnu.flag.repository import (
    REPORT_KIND,
    SORTS,
    FlagFilter,
    LinkedRow,
    ProgramSpell,
    TaskLine,
)
from rnu.ingest.quarantine import defuse
from rnu.person.models import Household, Person
from rnu.report import service as report_service
from rnu.report.models import CitizenReport
from rnu.staff import repository as staff_repository
from rnu.staff.models import STAFF_ROLES, Evidence, FlagEvent

__all__ = ["FlagFilter", "REPORT_KIND", "SORTS"]

MAX_PAGE_SIZE = 200
BULK_LIMIT = 5_000
EXPORT_LIMIT = 200_000
STATUSES = ("open", "confirmed", "dismissed", "resolved")
SEVERITIES = ("low", "medium", "high")
PERSON_FIELDS = ("dni", "nombres", "apellido_paterno", "apellido_materno")
DETAIL_FIELDS = (*PERSON_FIELDS, "birth_date", "cse", "programs", "match_evidence")
# How a report's reporter sees each analyst step (rnu.report.models.STATUSES).
REPORT_STATUS = {"assign": "en_revision", "confirm": "verificado", "dismiss": "descartado"}


# The queue line is the repository's record type (re-exported under its old name).
FlagItem = repository.FlagItem


@dataclass(frozen=True)
class FlagPage:
    items: list[FlagItem]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class FlagDetail:
    """Everything an analyst needs to decide on one flag."""

    flag: Flag
    person: Person | None
    household: Household | None
    history: list[ProgramSpell]
    roll_rows: list[LinkedRow]
    reports: list[CitizenReport]
    evidence_files: list[Evidence]
    events: list[FlagEvent]
    tasks: list[TaskLine]
    programs: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ActionResult:
    """How many flags an action changed (bulk actions skip flags already in that state)."""

    action: str
    flag_ids: list[int]
    changed: int


_subject = audit.document_subject


def check_filter(filters: FlagFilter) -> FlagFilter:
    """Refuse values that cannot match, so a typo is an error rather than an empty queue."""
    if filters.status and filters.status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    if filters.severity and filters.severity not in SEVERITIES:
        raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}")
    for name, size in (("department", 2), ("province", 4), ("district", 6)):
        value = getattr(filters, name)
        if value and not (len(value) == size and value.isdigit()):
            raise InvalidInput(f"{name} must be a {size}-digit ubigeo prefix")
    return filters


async def list_queue(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    secret: bytes,
    filters: FlagFilter,
    sort: str = "created_at",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
) -> FlagPage:
    """One page of the filtered queue; the people listed are audited as read."""
    check_filter(filters)
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    await repository.sync_reports(session)
    items, total = await repository.list_flags(
        session,
        filters=filters,
        sort=sort,
        descending=descending,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    await audit.record_reads(
        session,
        actor=actor,
        action="flag.list",
        subjects=(_subject(secret, i.doc_type, i.doc_number) for i in items),
        fields=PERSON_FIELDS,
    )
    return FlagPage(items=items, total=total, page=page, page_size=page_size)


async def get_detail(
    session: AsyncSession, *, actor: audit.Actor, secret: bytes, flag_id: int
) -> FlagDetail:
    """The flag with its evidence, person, programs over time, reports and history."""
    flag = await repository.get_flag(session, flag_id=flag_id)
    if flag is None:
        raise NotFound("no such flag")
    person = household = None
    history: list[ProgramSpell] = []
    roll_rows: list[LinkedRow] = []
    if flag.person_id is not None:
        person = await repository.get_person(session, person_id=flag.person_id)
        household = await repository.get_household_of(session, person_id=flag.person_id)
        history = await repository.person_history(session, person_id=flag.person_id)
        roll_rows = await repository.roll_rows_of(
            session,
            person_id=flag.person_id,
            program_code=flag.program_code,
            period=flag.period,
        )
    report_ids = [int(flag.evidence["report_id"])] if "report_id" in flag.evidence else []
    reports = await repository.reports_about(
        session, person_id=flag.person_id, report_ids=report_ids
    )
    evidence_files = await repository.evidence_of_report(
        session, report_ids=[r.id for r in reports if r.id is not None]
    )
    assert flag.id is not None
    events = await repository.list_events(session, flag_id=flag.id)
    tasks = await repository.tasks_of(session, flag_id=flag.id)
    if person is not None:
        await audit.record(
            session,
            actor=actor,
            action="flag.view",
            subject_hmac=_subject(secret, person.doc_type, person.doc_number),
            fields=DETAIL_FIELDS,
            details={"flag_id": flag.id},
        )
    programs = tuple(sorted({h.program_code for h in history}))
    return FlagDetail(
        flag=flag,
        person=person,
        household=household,
        history=history,
        roll_rows=roll_rows,
        reports=reports,
        evidence_files=evidence_files,
        events=events,
        tasks=tasks,
        programs=programs,
    )


def _clean_text(value: str | None, *, what: str, minimum: int, maximum: int = 2000) -> str:
    cleaned = " ".join((value or "").split())
    if len(cleaned) < minimum:
        raise InvalidInput(f"{what} is required (at least {minimum} characters)")
    if len(cleaned) > maximum:
        raise InvalidInput(f"{what} is too long (at most {maximum} characters)")
    return cleaned


async def _apply(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    action: str,
    ids: Sequence[int],
    values: dict[str, Any],
    skip_when: tuple[str, Any] | None,
    text: str | None = None,
    details: dict[str, Any] | None = None,
) -> ActionResult:
    if not ids:
        return ActionResult(action=action, flag_ids=[], changed=0)
    flags = await repository.lock_flags(session, ids=ids)
    if len(flags) != len(set(ids)):
        raise NotFound("no such flag")
    if any(f.status == "resolved" for f in flags) and action in {"confirm", "dismiss"}:
        raise Conflict("a resolved flag cannot be confirmed or dismissed")
    targets = [f for f in flags if skip_when is None or getattr(f, skip_when[0]) != skip_when[1]]
    target_ids = [f.id for f in targets if f.id is not None]
    now = utcnow()
    if target_ids:
        await repository.set_flags(session, ids=target_ids, values={"updated_at": now, **values})
        await repository.add_events(
            session,
            rows=[
                {
                    "flag_id": i,
                    "at": now,
                    "actor": actor.id,
                    "action": action,
                    "text": text,
                    "details": details or {},
                }
                for i in target_ids
            ],
        )
        report_ids = [
            int(f.evidence["report_id"])
            for f in targets
            if f.kind == REPORT_KIND and "report_id" in f.evidence
        ]
        if action in REPORT_STATUS:
            for report_id in report_ids:
                await report_service.set_status(
                    session, report_id=report_id, status=REPORT_STATUS[action], now=now
                )
    await audit.record(
        session,
        actor=actor,
        action=f"flag.{action}",
        details={"flag_ids": target_ids, **(details or {})},
    )
    return ActionResult(action=action, flag_ids=target_ids, changed=len(target_ids))


async def confirm(
    session: AsyncSession, *, actor: audit.Actor, flag_ids: Sequence[int], note: str | None = None
) -> ActionResult:
    """Mark flags as real findings (the program is told to act on them)."""
    return await _apply(
        session,
        actor=actor,
        action="confirm",
        ids=flag_ids,
        values={"status": "confirmed", "reviewer": actor.id, "dismissed_reason": None},
        skip_when=("status", "confirmed"),
        text=" ".join(note.split()) if note else None,
    )


async def dismiss(
    session: AsyncSession, *, actor: audit.Actor, flag_ids: Sequence[int], reason: str | None
) -> ActionResult:
    """Close flags as not a problem; the reason is required and kept with the flag.

    The integrity checks keep a dismissed flag dismissed until its evidence changes.
    """
    cleaned = _clean_text(reason, what="a dismissal reason", minimum=5)
    return await _apply(
        session,
        actor=actor,
        action="dismiss",
        ids=flag_ids,
        values={"status": "dismissed", "reviewer": actor.id, "dismissed_reason": cleaned},
        skip_when=("status", "dismissed"),
        text=cleaned,
    )


async def reopen(
    session: AsyncSession, *, actor: audit.Actor, flag_ids: Sequence[int]
) -> ActionResult:
    """Put confirmed or dismissed flags back in the open queue."""
    return await _apply(
        session,
        actor=actor,
        action="reopen",
        ids=flag_ids,
        values={"status": "open", "dismissed_reason": None},
        skip_when=("status", "open"),
    )


async def assign(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    flag_ids: Sequence[int],
    assignee: str | None,
) -> ActionResult:
    """Give flags to a staff member (None: unassign)."""
    username = assignee.strip().lower() if assignee and assignee.strip() else None
    if username is not None:
        user = await staff_repository.get_user_by_username(session, username=username)
        if user is None or user.role not in STAFF_ROLES or not user.is_active:
            raise InvalidInput("flags can only be assigned to an active staff member")
    return await _apply(
        session,
        actor=actor,
        action="assign",
        ids=flag_ids,
        values={"assigned_to": username},
        skip_when=("assigned_to", username),
        details={"assignee": username},
    )


async def comment(
    session: AsyncSession, *, actor: audit.Actor, flag_id: int, text: str | None
) -> ActionResult:
    """Add a note to a flag's history."""
    cleaned = _clean_text(text, what="a comment", minimum=1)
    return await _apply(
        session,
        actor=actor,
        action="comment",
        ids=[flag_id],
        values={},
        skip_when=None,
        text=cleaned,
    )


BULK_ACTIONS = ("confirm", "dismiss", "assign", "reopen")


async def bulk(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    filters: FlagFilter,
    action: str,
    reason: str | None = None,
    assignee: str | None = None,
) -> ActionResult:
    """Apply one action to every flag of a filtered set (at most ``BULK_LIMIT``).

    A set larger than the limit is refused rather than cut: acting on "the first 5,000" of a
    filter would be an arbitrary, surprising subset.
    """
    check_filter(filters)
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(BULK_ACTIONS)}")
    ids = await repository.flag_ids(session, filters=filters, limit=BULK_LIMIT)
    if len(ids) > BULK_LIMIT:
        raise InvalidInput(f"the filtered set has more than {BULK_LIMIT} flags; narrow it")
    if action == "confirm":
        return await confirm(session, actor=actor, flag_ids=ids, note=reason)
    if action == "dismiss":
        return await dismiss(session, actor=actor, flag_ids=ids, reason=reason)
    if action == "reopen":
        return await reopen(session, actor=actor, flag_ids=ids)
    return await assign(session, actor=actor, flag_ids=ids, assignee=assignee)


EXPORT_COLUMNS = (
    "flag_id",
    "kind",
    "severity",
    "status",
    "program",
    "period",
    "ubigeo",
    "person_key",
    "doc_type",
    "doc_number",
    "nombres",
    "apellido_paterno",
    "apellido_materno",
    "assigned_to",
    "dismissed_reason",
    "created_at",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return defuse(str(value))


async def export_csv(
    session: AsyncSession, *, actor: audit.Actor, secret: bytes, filters: FlagFilter
) -> str:
    """The filtered set as CSV; every cell defused against spreadsheet formula injection."""
    check_filter(filters)
    items = await repository.iter_flags(session, filters=filters, limit=EXPORT_LIMIT)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for i in items:
        writer.writerow(
            _cell(v)
            for v in (
                i.id,
                i.kind,
                i.severity,
                i.status,
                i.program_code,
                i.period,
                i.ubigeo,
                i.pgh_key,
                i.doc_type,
                i.doc_number,
                i.nombres,
                i.apellido_paterno,
                i.apellido_materno,
                i.assigned_to,
                i.dismissed_reason,
                i.created_at,
            )
        )
    await audit.record_reads(
        session,
        actor=actor,
        action="flag.export",
        subjects=(_subject(secret, i.doc_type, i.doc_number) for i in items),
        fields=PERSON_FIELDS,
    )
    await audit.record(session, actor=actor, action="flag.export", details={"rows": len(items)})
    return buffer.getvalue()
