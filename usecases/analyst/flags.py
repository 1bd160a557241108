"""One flag: its case file, who it can go to, its evidence files, and the actions on it.

An action runs in a savepoint, so a refused one undoes only itself and the caller's session
stays usable; bulk actions need a supervisor or an admin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from privacy.policy import PersonOut, person_out
from rnu.audit import service as audit
from rnu.flag import service as flag_service
from rnu.flag.models import Flag
from rnu.flag.repository import FlagFilter, LinkedRow, ProgramSpell, TaskLine
from rnu.report.models import CitizenReport
from rnu.staff import repository as staff_repository
from rnu.staff import volunteer as volunteer_service
from rnu.staff.models import STAFF_ROLES, Evidence, FlagEvent, StaffUser
from usecases import views
from usecases.analyst.actor import Analyst

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


async def flag_case(analyst: Analyst, flag_id: int, *, purpose: str | None) -> FlagCase:
    """One flag with its evidence, person, programs over time, rows, reports, history, tasks.

    ``purpose``: why the analyst opens the person (``rnu.audit.purposes``), required.
    """
    d = await flag_service.get_detail(
        analyst.session,
        actor=analyst.reading_for(purpose),
        secret=analyst.secret,
        flag_id=flag_id,
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
