"""Reports of possible filtración: filed with a reason, followed by an easy tracking code.

Abuse controls live here as rules: size limits, folding a reporter's repeated report into the
first one (their ``duplicate_count`` grows, no new code), and a burst signal when several
different reporters target the same person within a day (marked for analysts, never shown to
reporters). Rate limits per client are the edge's job.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.errors import InvalidInput, NotFound
from rnu.report import repository
from rnu.report.models import REASON_CODES, STATUSES, CitizenReport

# Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_CHARS = 11  # 55 bits: unguessable within any rate limit
PREFIX = "RNU"
MAX_TEXT = 1000
MAX_CONTACT = 120
FOLD_WINDOW = timedelta(days=30)
BURST_WINDOW = timedelta(hours=24)
BURST_REPORTERS = 5


def _check_char(body: str) -> str:
    # Odd weights are units mod 32, so any single mistyped character changes the sum.
    total = sum((2 * i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % 32]


def new_tracking_code() -> str:
    """'RNU-7K3M-Q9TX-2PA5': 11 random characters and a check character."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_CHARS))
    full = body + _check_char(body)
    return f"{PREFIX}-{full[0:4]}-{full[4:8]}-{full[8:12]}"


def normalize_code(raw: str) -> str | None:
    """Accept lower case, spaces, no dashes or prefix, O for 0 and I/L for 1; None if invalid."""
    cleaned = "".join(ch for ch in raw.upper() if ch.isalnum())
    if cleaned.startswith(PREFIX) and len(cleaned) == len(PREFIX) + 12:
        cleaned = cleaned[len(PREFIX) :]
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) != 12 or any(ch not in ALPHABET for ch in cleaned):
        return None
    if _check_char(cleaned[:11]) != cleaned[11]:
        return None
    return f"{PREFIX}-{cleaned[0:4]}-{cleaned[4:8]}-{cleaned[8:12]}"


@dataclass(frozen=True)
class ReportTarget:
    """What a report is about: a resolved roll entry, or only a program and district."""

    program_code: str | None
    ubigeo: str | None
    period: str | None = None
    entry_id: str | None = None
    person_id: int | None = None
    enrollment_id: int | None = None


@dataclass(frozen=True)
class ReportReceipt:
    """``tracking_code`` is None for a public report folded into an earlier one: the earlier
    code belongs to whoever filed it first, and "the same reporter" of a public report is only
    a network address (a cybercafé, a CGNAT), so handing it back would give a stranger someone
    else's code. A volunteer folds into their own (an account), and gets it back."""

    tracking_code: str | None
    folded: bool
    created_at: datetime


@dataclass(frozen=True)
class StatusStep:
    at: datetime
    status: str


@dataclass(frozen=True)
class ReportStatus:
    """What anyone holding the code may see: no text, contact or person."""

    tracking_code: str
    status: str
    reason_code: str
    program_code: str | None
    ubigeo: str | None
    created_at: datetime
    history: tuple[StatusStep, ...]


def _clean(value: str | None, limit: int, field: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters")
    return value or None


def _now() -> datetime:
    return datetime.now(UTC)


async def create_report(
    session: AsyncSession,
    *,
    target: ReportTarget,
    reason_code: str,
    text: str | None = None,
    contact: str | None = None,
    reporter_hmac: str | None = None,
    reporter_role: str = "public",
    now: datetime | None = None,
) -> ReportReceipt:
    """File a report (or fold it into the same reporter's recent one) and return its code."""
    if reason_code not in REASON_CODES:
        raise InvalidInput(f"reason_code must be one of {', '.join(REASON_CODES)}")
    if target.person_id is None and target.program_code is None and target.ubigeo is None:
        raise InvalidInput("a report needs a roll entry, or a program and district")
    # An unknown program is the reporter's mistake (400), not a foreign-key failure (500).
    if target.program_code is not None and not await repository.program_exists(
        session, code=target.program_code
    ):
        raise InvalidInput(f"unknown program {target.program_code!r}")
    text = _clean(text, MAX_TEXT, "text")
    contact = _clean(contact, MAX_CONTACT, "contact")
    if target.person_id is None and reason_code != "otro" and not text:
        raise InvalidInput("describe the case when the report points at no roll entry")
    now = now or _now()
    if reporter_hmac:
        existing = await repository.find_foldable(
            session,
            reporter_hmac=reporter_hmac,
            reason_code=reason_code,
            person_id=target.person_id,
            program_code=target.program_code,
            ubigeo=target.ubigeo,
            text=text,
            since=now - FOLD_WINDOW,
        )
        if existing is not None:
            existing.duplicate_count += 1
            session.add(existing)
            await session.flush()
            own = reporter_role != "public"  # an account, not an address, is the reporter
            code = existing.tracking_code if own else None
            return ReportReceipt(code, True, existing.created_at)
    code = new_tracking_code()
    while await repository.code_exists(session, tracking_code=code):
        code = new_tracking_code()  # 2^55 codes: practically never loops
    report = CitizenReport(
        tracking_code=code,
        program_code=target.program_code,
        ubigeo=target.ubigeo,
        period=target.period,
        entry_id=target.entry_id,
        enrollment_id=target.enrollment_id,
        person_id=target.person_id,
        reason_code=reason_code,
        text=text,
        contact=contact,
        status="recibido",
        history=[{"at": now.isoformat(), "status": "recibido"}],
        reporter_hmac=reporter_hmac,
        reporter_role=reporter_role,
        created_at=now,
    )
    session.add(report)
    await session.flush()
    if target.person_id is not None:
        since = now - BURST_WINDOW
        reporters = await repository.count_recent_reporters(
            session, person_id=target.person_id, since=since
        )
        if reporters >= BURST_REPORTERS:
            await repository.mark_burst(session, person_id=target.person_id, since=since)
    return ReportReceipt(code, False, now)


async def get_status(session: AsyncSession, *, tracking_code: str) -> ReportStatus:
    """The report's public status and history; NotFound for a malformed or unknown code."""
    code = normalize_code(tracking_code)
    report = await repository.get_by_code(session, tracking_code=code) if code else None
    if report is None:
        raise NotFound("no report with this tracking code")
    steps = tuple(
        StatusStep(at=datetime.fromisoformat(str(h["at"])), status=str(h["status"]))
        for h in report.history
    )
    return ReportStatus(
        tracking_code=report.tracking_code,
        status=report.status,
        reason_code=report.reason_code,
        program_code=report.program_code,
        ubigeo=report.ubigeo,
        created_at=report.created_at,
        history=steps,
    )


async def set_status(
    session: AsyncSession, *, report_id: int, status: str, now: datetime | None = None
) -> CitizenReport:
    """Move a report to a new status (analysts' workflow); the reporter sees the step."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    report = await session.get(CitizenReport, report_id)
    if report is None:
        raise NotFound("no such report")
    now = now or _now()
    report.status = status
    report.history = [*report.history, {"at": now.isoformat(), "status": status}]
    flag_modified(report, "history")
    session.add(report)
    await session.flush()
    return report


async def list_reports(
    session: AsyncSession,
    *,
    status: str | None = None,
    ubigeo: str | None = None,
    program_code: str | None = None,
    is_burst: bool | None = None,
    person_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CitizenReport]:
    """Reports for the analysts' queue, newest first, filtered by any of the arguments."""
    filters = {
        name: value
        for name, value in {
            "status": status,
            "ubigeo": ubigeo,
            "program_code": program_code,
            "is_burst": is_burst,
            "person_id": person_id,
        }.items()
        if value is not None
    }
    return await repository.list_reports(
        session, filters=filters, limit=min(limit, 500), offset=offset
    )
