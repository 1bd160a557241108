"""The MIDIS analysts' jobs: the flag queue, one flag, actions on flags, match review, dashboard.

The JSON API (``api/rest/analista*``) and the pages (``web/pages/analista*``) call these and
reimplement none of it. Each job is done once here, with its policy and audit in one place:

* people leave only through ``privacy.policy.person_out`` with the analyst's caller, from the
  one view mapping (``usecases.views``: a CUI is shown as the DNI, ``is_minor`` computed);
* reads are audited by the core services (``rnu.flag.service``, ``rnu.review.service``), one
  row per person shown, in the request's transaction; actions write a flag event and an audit
  row there too;
* an action or a review decision runs in a savepoint, so a refused one undoes only itself and
  the caller's session stays usable (a page can still render the flag with the error);
* bulk actions need a supervisor or an admin (``Forbidden`` otherwise), whatever the edge.

Errors are the domain's (``rnu.errors``): an unknown flag is ``NotFound``, a dismissal without
a reason ``InvalidInput``; each medium renders them once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.policy import PersonOut, PersonView, person_out
from privacy.roles import Caller
from rnu.audit import service as audit
from rnu.batch.models import LoadBatch
from rnu.dashboard import service as dashboard_service
from rnu.dashboard.service import Dashboard as Dashboard
from rnu.dashboard.service import DashboardRow as DashboardRow
from rnu.enrollment.models import RollRow
from rnu.errors import Forbidden, InvalidInput
from rnu.flag import service as flag_service
from rnu.flag.models import Flag
from rnu.flag.repository import FlagFilter, LinkedRow, ProgramSpell, TaskLine
from rnu.report.models import CitizenReport
from rnu.review import service as review_service
from rnu.review.models import MatchReviewItem
from rnu.review.service import DecisionResult as DecisionResult
from rnu.review.service import ReviewPage as ReviewPage
from rnu.review.service import agreement_class as agreement_class
from rnu.staff import repository as staff_repository
from rnu.staff import volunteer as volunteer_service
from rnu.staff.models import STAFF_ROLES, Evidence, FlagEvent, StaffUser
from usecases import views
from usecases.context import Clock

SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})

# The queue's filters by the names the pages and the API use (Spanish query parameters).
FILTER_PARAMS = (
    "tipo",
    "programa",
    "periodo",
    "departamento",
    "provincia",
    "distrito",
    "severidad",
    "estado",
    "asignado",
)


@dataclass(frozen=True, kw_only=True)
class Analyst:
    """Who does the job and with what: a staff member's session, audit name, privacy caller.

    Built by the edge from the logged-in staff session; the use cases never see a request.
    """

    session: AsyncSession
    secret: bytes
    actor: audit.Actor
    caller: Caller
    username: str
    role: str
    clock: Clock = field(default_factory=Clock)

    @property
    def is_supervisor(self) -> bool:
        return self.role in SUPERVISOR_ROLES

    def require_supervisor(self) -> None:
        if not self.is_supervisor:
            raise Forbidden("bulk actions need a supervisor")


def queue_filter(values: Mapping[str, str | None], *, strict: bool = False) -> FlagFilter:
    """Filter values by their Spanish names to a queue filter (blank: any).

    ``strict`` refuses names that are not filters (a bulk action must not silently widen).
    """
    unknown = set(values) - set(FILTER_PARAMS)
    if strict and unknown:
        raise InvalidInput(f"unknown filters: {', '.join(sorted(unknown))}")

    def value(name: str) -> str | None:
        text = values.get(name)
        return text.strip() or None if text else None

    return FlagFilter(
        kind=value("tipo"),
        program_code=value("programa"),
        period=value("periodo"),
        department=value("departamento"),
        province=value("provincia"),
        district=value("distrito"),
        severity=value("severidad"),
        status=value("estado"),
        assigned_to=value("asignado"),
    )


# ---------------------------------------------------------------------------------------------
# The queue


@dataclass(frozen=True)
class QueueQuery:
    filters: FlagFilter = field(default_factory=FlagFilter)
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class QueueLine:
    """One flag of the queue and its person as the analyst may see them (None: no person)."""

    flag: flag_service.FlagItem
    person: PersonOut | None


@dataclass(frozen=True)
class QueuePage:
    lines: list[QueueLine]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _line_person(analyst: Analyst, item: flag_service.FlagItem) -> PersonOut | None:
    if item.person_id is None:
        return None
    view = PersonView.build(
        analyst.secret,
        person_key=item.pgh_key or f"id:{item.person_id}",
        dni=views.shown_dni(item.doc_type, item.doc_number),
        nombres=item.nombres,
        apellido_paterno=item.apellido_paterno,
        apellido_materno=item.apellido_materno,
        birth_date=None,
        sex=None,
        ubigeo=item.ubigeo,
    )
    return person_out(view, analyst.caller)


async def queue(analyst: Analyst, query: QueueQuery) -> QueuePage:
    """One page of the filtered, sorted queue (citizen reports included); people audited."""
    page = await flag_service.list_queue(
        analyst.session,
        actor=analyst.actor,
        secret=analyst.secret,
        filters=query.filters,
        sort=query.sort,
        descending=query.descending,
        page=query.page,
        page_size=query.page_size,
    )
    return QueuePage(
        lines=[QueueLine(item, _line_person(analyst, item)) for item in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


async def export_csv(analyst: Analyst, filters: FlagFilter) -> str:
    """The filtered set as CSV (cells defused against spreadsheet formulas); people audited."""
    return await flag_service.export_csv(
        analyst.session, actor=analyst.actor, secret=analyst.secret, filters=filters
    )


# ---------------------------------------------------------------------------------------------
# One flag


@dataclass(frozen=True)
class FlagCase:
    """Everything an analyst needs to decide on one flag, the person through the policy."""

    flag: Flag
    person: PersonOut | None
    history: list[ProgramSpell]
    roll_rows: list[LinkedRow]
    reports: list[CitizenReport]
    evidence_files: list[Evidence]
    events: list[FlagEvent]
    tasks: list[TaskLine]


async def flag_case(analyst: Analyst, flag_id: int) -> FlagCase:
    """One flag with its evidence, person, programs over time, rows, reports, history, tasks."""
    d = await flag_service.get_detail(
        analyst.session, actor=analyst.actor, secret=analyst.secret, flag_id=flag_id
    )
    person = None
    if d.person is not None:
        view = views.person_view(
            analyst.secret,
            d.person,
            household=d.household,
            programs=d.programs,
            today=analyst.clock.today(),
        )
        person = person_out(view, analyst.caller)
    return FlagCase(
        flag=d.flag,
        person=person,
        history=d.history,
        roll_rows=d.roll_rows,
        reports=d.reports,
        evidence_files=d.evidence_files,
        events=d.events,
        tasks=d.tasks,
    )


@dataclass(frozen=True)
class Assignees:
    """Who a flag can go to: active staff, and the volunteers of its district."""

    staff: list[StaffUser]
    volunteers: list[StaffUser]


async def assignees(analyst: Analyst, ubigeo: str | None) -> Assignees:
    staff = [u for u in await staff_repository.list_users(analyst.session) if u.role in STAFF_ROLES]
    volunteers = (
        await staff_repository.list_volunteers_for(analyst.session, ubigeo=ubigeo) if ubigeo else []
    )
    return Assignees(staff=staff, volunteers=volunteers)


@dataclass(frozen=True)
class EvidenceFile:
    path: Path
    media_type: str
    filename: str


EVIDENCE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


async def evidence_file(analyst: Analyst, evidence_id: int, *, data_dir: Path) -> EvidenceFile:
    """An uploaded evidence file, for staff only; the view is audited."""
    item = await volunteer_service.get_evidence(analyst.session, evidence_id=evidence_id)
    await audit.record(
        analyst.session,
        actor=analyst.actor,
        action="evidence.view",
        details={"evidence_id": evidence_id},
    )
    extension = EVIDENCE_EXTENSIONS.get(item.media_type, "pdf")
    return EvidenceFile(
        path=volunteer_service.evidence_path(data_dir, item.stored_name),
        media_type=item.media_type,
        filename=f"evidencia-{evidence_id}.{extension}",
    )


# ---------------------------------------------------------------------------------------------
# Actions


class FlagAction(StrEnum):
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    REOPEN = "reopen"
    ASSIGN = "assign"
    COMMENT = "comment"
    TASK = "task"


@dataclass(frozen=True)
class ActionIn:
    """One action on one flag.

    ``text``: the note (confirm), the reason (dismiss, required), the comment, or the task's
    instructions; ``username``: the staff member (assign; none unassigns) or the volunteer.
    """

    action: FlagAction
    text: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class ActionDone:
    action: str
    changed: int
    flag_ids: list[int]
    task_id: int | None = None


def _done(result: flag_service.ActionResult) -> ActionDone:
    return ActionDone(action=result.action, changed=result.changed, flag_ids=result.flag_ids)


async def _confirm(a: Analyst, flag_id: int, act: ActionIn) -> ActionDone:
    return _done(
        await flag_service.confirm(a.session, actor=a.actor, flag_ids=[flag_id], note=act.text)
    )


async def _dismiss(a: Analyst, flag_id: int, act: ActionIn) -> ActionDone:
    return _done(
        await flag_service.dismiss(a.session, actor=a.actor, flag_ids=[flag_id], reason=act.text)
    )


async def _reopen(a: Analyst, flag_id: int, act: ActionIn) -> ActionDone:
    return _done(await flag_service.reopen(a.session, actor=a.actor, flag_ids=[flag_id]))


async def _assign(a: Analyst, flag_id: int, act: ActionIn) -> ActionDone:
    return _done(
        await flag_service.assign(
            a.session, actor=a.actor, flag_ids=[flag_id], assignee=act.username
        )
    )


async def _comment(a: Analyst, flag_id: int, act: ActionIn) -> ActionDone:
    return _done(
        await flag_service.comment(a.session, actor=a.actor, flag_id=flag_id, text=act.text)
    )


async def _task(a: Analyst, flag_id: int, act: ActionIn) -> ActionDone:
    task = await volunteer_service.create_task(
        a.session,
        actor=a.actor,
        flag_id=flag_id,
        volunteer=act.username or "",
        instructions=act.text or "",
    )
    return ActionDone(action="task", changed=1, flag_ids=[flag_id], task_id=task.id)


_ACTIONS: dict[FlagAction, Callable[[Analyst, int, ActionIn], Awaitable[ActionDone]]] = {
    FlagAction.CONFIRM: _confirm,
    FlagAction.DISMISS: _dismiss,
    FlagAction.REOPEN: _reopen,
    FlagAction.ASSIGN: _assign,
    FlagAction.COMMENT: _comment,
    FlagAction.TASK: _task,
}


async def act(analyst: Analyst, flag_id: int, action: ActionIn) -> ActionDone:
    """Apply one action to one flag, in a savepoint (a refused action undoes only itself)."""
    async with analyst.session.begin_nested():
        return await _ACTIONS[action.action](analyst, flag_id, action)


@dataclass(frozen=True)
class BulkIn:
    """One action (confirm, dismiss, assign, reopen) on every flag of a filtered set."""

    action: str
    filters: FlagFilter
    reason: str | None = None
    assignee: str | None = None


async def bulk(analyst: Analyst, request: BulkIn) -> ActionDone:
    """Apply one action to a filtered set (at most ``flag_service.BULK_LIMIT``); supervisors."""
    analyst.require_supervisor()
    async with analyst.session.begin_nested():
        result = await flag_service.bulk(
            analyst.session,
            actor=analyst.actor,
            filters=request.filters,
            action=request.action,
            reason=request.reason,
            assignee=request.assignee,
        )
    return _done(result)


# ---------------------------------------------------------------------------------------------
# Match review


async def review_queue(
    analyst: Analyst, *, program_code: str | None = None, page: int = 1
) -> ReviewPage:
    """Rows matching could not decide on, oldest first; the rows' people audited."""
    return await review_service.list_queue(
        analyst.session,
        actor=analyst.actor,
        secret=analyst.secret,
        program_code=program_code or None,
        page=page,
    )


@dataclass(frozen=True)
class Candidate:
    """A person the row may be, through the policy, with the field-level agreements."""

    key: str | None
    weight: float
    person: PersonOut
    doc_type: str | None
    agreements: dict[str, str]

    def highlight(self, field_name: str) -> str:
        return agreement_class(self.agreements.get(field_name))


@dataclass(frozen=True)
class ReviewCase:
    item: MatchReviewItem
    row: RollRow
    batch: LoadBatch
    candidates: list[Candidate]


async def review_case(analyst: Analyst, item_id: int) -> ReviewCase:
    """The row beside its candidates (best first); the row's and candidates' people audited."""
    d = await review_service.get_detail(
        analyst.session, actor=analyst.actor, secret=analyst.secret, item_id=item_id
    )
    today = analyst.clock.today()
    candidates = [
        Candidate(
            key=c.person.pgh_key,
            weight=c.weight,
            person=person_out(
                views.person_view(analyst.secret, c.person, household=c.household, today=today),
                analyst.caller,
            ),
            doc_type=c.person.doc_type,
            agreements=c.agreements,
        )
        for c in d.candidates
    ]
    return ReviewCase(item=d.item, row=d.row, batch=d.batch, candidates=candidates)


@dataclass(frozen=True)
class DecisionIn:
    """``link`` (to the candidate ``person_key``), ``new_person`` or ``distinct``."""

    decision: str
    person_key: str | None = None


async def decide(analyst: Analyst, item_id: int, decision: DecisionIn) -> DecisionResult:
    """Apply a review decision now (in a savepoint: a refused one undoes only itself)."""
    async with analyst.session.begin_nested():
        return await review_service.decide(
            analyst.session,
            actor=analyst.actor,
            secret=analyst.secret,
            item_id=item_id,
            decision=decision.decision,
            person_key=decision.person_key,
        )


# ---------------------------------------------------------------------------------------------
# Dashboard


async def dashboard(
    analyst: Analyst, *, program_code: str | None = None, department: str | None = None
) -> Dashboard:
    """Per program and department: users, flags, filtración rate, subcobertura, expiring CSE."""
    return await dashboard_service.build(
        analyst.session,
        today=analyst.clock.today(),
        program_code=program_code or None,
        department=department or None,
    )
