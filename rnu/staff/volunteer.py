"""The vigilance volunteers' side: field-verification tasks, evidence uploads, their reports.

Evidence files are checked by their first bytes (not by the name or the declared type),
limited in size, and stored under the data folder by a random name, outside anything the web
server serves; only analysts and the uploading volunteer are ever given them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.audit import service as audit
from rnu.base import utcnow
from rnu.errors import Forbidden, InvalidInput, NotFound
from rnu.flag import repository as flag_repository
from rnu.report import service as report_service
from rnu.report.models import CitizenReport
from rnu.sqlexec import execute
from rnu.staff import repository
from rnu.staff.models import Evidence, FieldTask, StaffUser, VolunteerReport

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
FINDINGS = ("confirma", "no_confirma", "no_ubicado")
EVIDENCE_FOLDER = "evidencia"


def sniff_media_type(head: bytes) -> str | None:
    """The media type the bytes really are (JPEG, PNG, WebP or PDF), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def evidence_path(data_dir: Path, stored_name: str) -> Path:
    return data_dir / EVIDENCE_FOLDER / stored_name


async def store_evidence(
    session: AsyncSession,
    *,
    data_dir: Path,
    uploader: StaffUser,
    content: bytes,
    report_id: int | None = None,
    task_id: int | None = None,
) -> Evidence:
    """Check and keep one upload; InvalidInput when empty, too large or not a photo/PDF."""
    if not content:
        raise InvalidInput("the file is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB")
    media_type = sniff_media_type(content[:16])
    if media_type is None:
        raise InvalidInput("only JPEG, PNG or WebP photos and PDF documents are accepted")
    stored = secrets.token_hex(16) + ".bin"
    path = evidence_path(data_dir, stored)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written before the row so a row never points at a missing file; a failed transaction
    # leaves at worst an orphan file under a random name.
    path.write_bytes(content)
    assert uploader.id is not None
    evidence = Evidence(
        uploaded_by=uploader.id,
        stored_name=stored,
        media_type=media_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        report_id=report_id,
        task_id=task_id,
    )
    session.add(evidence)
    await session.flush()
    return evidence


async def get_evidence(session: AsyncSession, *, evidence_id: int) -> Evidence:
    evidence = await session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound("no such evidence")
    return evidence


# ---------------------------------------------------------------------------------------------
# Tasks


async def create_task(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    flag_id: int,
    volunteer: str,
    instructions: str,
) -> FieldTask:
    """An analyst asks a volunteer assigned to the flag's district to verify it."""
    flag = await flag_repository.get_flag(session, flag_id=flag_id)
    if flag is None:
        raise NotFound("no such flag")
    user = await repository.get_user_by_username(session, username=volunteer.strip().lower())
    if user is None or user.role != "volunteer" or not user.is_active:
        raise InvalidInput("tasks go to an active volunteer")
    if not flag.ubigeo or flag.ubigeo not in user.districts:
        raise InvalidInput("the volunteer is not assigned to the flag's district")
    text = " ".join(instructions.split())
    if len(text) < 5:
        raise InvalidInput("instructions are required")
    assert user.id is not None
    task = FieldTask(
        flag_id=flag_id,
        assignee_id=user.id,
        created_by=actor.id,
        instructions=text,
        ubigeo=flag.ubigeo,
    )
    session.add(task)
    await session.flush()
    await flag_repository.add_events(
        session,
        rows=[
            {
                "flag_id": flag_id,
                "at": utcnow(),
                "actor": actor.id,
                "action": "task",
                "text": text,
                "details": {"task_id": task.id, "volunteer": user.username},
            }
        ],
    )
    await audit.record(
        session, actor=actor, action="task.create", details={"flag_id": flag_id, "task_id": task.id}
    )
    return task


@dataclass(frozen=True)
class TaskView:
    """What a volunteer sees of a task: the place, program, instructions, and whom to visit."""

    id: int
    status: str
    instructions: str
    ubigeo: str | None
    program_code: str | None
    period: str | None
    kind: str
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    finding: str | None
    answer: str | None
    created_at: datetime


async def list_tasks(session: AsyncSession, *, user: StaffUser) -> list[TaskView]:
    """The volunteer's tasks, open first."""
    from rnu.flag.models import Flag
    from rnu.person.models import Person

    query = (
        select(
            col(FieldTask.id),
            col(FieldTask.status),
            col(FieldTask.instructions),
            col(FieldTask.ubigeo),
            col(Flag.program_code),
            col(Flag.period),
            col(Flag.kind),
            col(Person.nombres),
            col(Person.apellido_paterno),
            col(Person.apellido_materno),
            col(FieldTask.finding),
            col(FieldTask.answer),
            col(FieldTask.created_at),
        )
        .join(Flag, col(Flag.id) == FieldTask.flag_id)
        .outerjoin(Person, col(Person.id) == Flag.person_id)
        .where(col(FieldTask.assignee_id) == user.id)
        .order_by(col(FieldTask.status) != "open", col(FieldTask.id).desc())
    )
    rows: Sequence[RowMapping] = (await execute(session, query)).mappings().all()
    return [
        TaskView(
            id=r["id"],
            status=r["status"],
            instructions=r["instructions"],
            ubigeo=r["ubigeo"],
            program_code=r["program_code"],
            period=r["period"],
            kind=r["kind"],
            nombres=r["nombres"],
            apellido_paterno=r["apellido_paterno"],
            apellido_materno=r["apellido_materno"],
            finding=r["finding"],
            answer=r["answer"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def answer_task(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    user: StaffUser,
    task_id: int,
    finding: str,
    answer: str | None,
    data_dir: Path | None = None,
    evidence: bytes | None = None,
) -> FieldTask:
    """The volunteer's answer; it is attached to the flag's history for the analyst."""
    task = await session.get(FieldTask, task_id)
    if task is None or task.assignee_id != user.id:
        raise NotFound("no such task")  # someone else's task is as good as absent
    if task.status != "open":
        raise InvalidInput("this task was already answered")
    if finding not in FINDINGS:
        raise InvalidInput(f"finding must be one of {', '.join(FINDINGS)}")
    text = " ".join((answer or "").split()) or None
    if text and len(text) > 2000:
        raise InvalidInput("the answer is too long")
    stored: Evidence | None = None
    if evidence:
        if data_dir is None:
            raise InvalidInput("evidence cannot be stored")
        stored = await store_evidence(
            session, data_dir=data_dir, uploader=user, content=evidence, task_id=task.id
        )
    task.status = "answered"
    task.finding = finding
    task.answer = text
    task.answered_at = utcnow()
    session.add(task)
    await session.flush()
    await flag_repository.add_events(
        session,
        rows=[
            {
                "flag_id": task.flag_id,
                "at": task.answered_at,
                "actor": actor.id,
                "action": "task_answer",
                "text": text,
                "details": {
                    "task_id": task.id,
                    "finding": finding,
                    "evidence_id": stored.id if stored else None,
                },
            }
        ],
    )
    await audit.record(
        session,
        actor=actor,
        action="task.answer",
        details={"task_id": task.id, "flag_id": task.flag_id, "finding": finding},
    )
    return task


# ---------------------------------------------------------------------------------------------
# Reports


def check_district(user: StaffUser, ubigeo: str) -> None:
    if ubigeo not in user.districts:
        raise Forbidden("this district is not assigned to the volunteer")


async def file_report(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    user: StaffUser,
    target: report_service.ReportTarget,
    reason_code: str,
    text: str | None,
    data_dir: Path,
    evidence: bytes | None = None,
) -> tuple[report_service.ReportReceipt, Evidence | None]:
    """File a report about an entry of one of the volunteer's districts, with evidence."""
    if target.ubigeo is None:
        raise InvalidInput("a volunteer's report names a district")
    check_district(user, target.ubigeo)
    # Checked before the report is filed so a bad file does not leave a report behind.
    if evidence is not None and sniff_media_type(evidence[:16]) is None:
        raise InvalidInput("only JPEG, PNG or WebP photos and PDF documents are accepted")
    if evidence is not None and len(evidence) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB")
    receipt = await report_service.create_report(
        session,
        target=target,
        reason_code=reason_code,
        text=text,
        reporter_hmac=f"volunteer:{user.id}",
        reporter_role="volunteer",
    )
    assert receipt.tracking_code is not None  # an account's report folds into its own
    report = await _report_by_code(session, receipt.tracking_code)
    assert report.id is not None
    assert user.id is not None
    if await session.get(VolunteerReport, report.id) is None:
        session.add(VolunteerReport(report_id=report.id, user_id=user.id))
        await session.flush()
    stored = None
    if evidence:
        stored = await store_evidence(
            session, data_dir=data_dir, uploader=user, content=evidence, report_id=report.id
        )
    await audit.record(
        session,
        actor=actor,
        action="report.file",
        details={"report_id": report.id, "folded": receipt.folded},
    )
    return receipt, stored


async def _report_by_code(session: AsyncSession, code: str) -> CitizenReport:
    query = select(CitizenReport).where(col(CitizenReport.tracking_code) == code)
    report: CitizenReport | None = (await execute(session, query)).scalars().first()
    if report is None:
        raise NotFound("no such report")
    return report


@dataclass(frozen=True)
class ReportLine:
    """One report of the volunteer's districts. ``tracking_code`` only on the volunteer's own:
    a code is a bearer credential (its status page shows the case), not a district's list."""

    tracking_code: str | None
    reason_code: str
    status: str
    program_code: str | None
    ubigeo: str | None
    created_at: datetime
    mine: bool
    evidence_count: int


async def list_reports(session: AsyncSession, *, user: StaffUser) -> list[ReportLine]:
    """Every report of the volunteer's districts (theirs marked), newest first."""
    from sqlalchemy import func

    mine = select(col(VolunteerReport.report_id)).where(col(VolunteerReport.user_id) == user.id)
    evidence_count = (
        select(func.count())
        .where(col(Evidence.report_id) == CitizenReport.id)
        .correlate(CitizenReport)
        .scalar_subquery()
    )
    query = (
        select(CitizenReport, col(CitizenReport.id).in_(mine), evidence_count)
        .where(col(CitizenReport.ubigeo).in_(user.districts))
        .order_by(col(CitizenReport.created_at).desc())
        .limit(200)
    )
    rows = (await execute(session, query)).all()
    return [
        ReportLine(
            tracking_code=r.tracking_code if is_mine else None,
            reason_code=r.reason_code,
            status=r.status,
            program_code=r.program_code,
            ubigeo=r.ubigeo,
            created_at=r.created_at,
            mine=bool(is_mine),
            evidence_count=int(n),
        )
        for r, is_mine, n in rows
    ]
