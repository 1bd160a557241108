"""SQL for citizen reports: insert, fold, count bursts, look up by code, list for analysts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.report.models import CitizenReport
from rnu.sqlexec import run_sql


async def get_by_code(session: AsyncSession, *, tracking_code: str) -> CitizenReport | None:
    result = await session.exec(
        select(CitizenReport).where(CitizenReport.tracking_code == tracking_code)
    )
    return result.first()


async def code_exists(session: AsyncSession, *, tracking_code: str) -> bool:
    row = await run_sql(
        session,
        ("SELECT 1 FROM citizen_report WHERE tracking_code = :code"),
        {"code": tracking_code},
    )
    return row.first() is not None


async def program_exists(session: AsyncSession, *, code: str) -> bool:
    row = await run_sql(session, "SELECT 1 FROM program WHERE code = :code", {"code": code})
    return row.first() is not None


async def find_foldable(
    session: AsyncSession,
    *,
    reporter_hmac: str,
    reason_code: str,
    person_id: int | None,
    program_code: str | None,
    ubigeo: str | None,
    text: str | None,
    since: datetime,
) -> CitizenReport | None:
    """The same reporter's open report on the same subject and reason, if recent.

    A report without a roll entry is the same case only when its description is the same too.
    """
    query = select(CitizenReport).where(
        CitizenReport.reporter_hmac == reporter_hmac,
        CitizenReport.reason_code == reason_code,
        col(CitizenReport.created_at) >= since,
        col(CitizenReport.status).in_(("recibido", "en_revision")),
    )
    if person_id is not None:
        query = query.where(CitizenReport.person_id == person_id)
    else:
        query = query.where(
            col(CitizenReport.person_id).is_(None),
            CitizenReport.program_code == program_code,
            CitizenReport.ubigeo == ubigeo,
            CitizenReport.text == text,
        )
    result = await session.exec(query.order_by(col(CitizenReport.created_at).desc()).limit(1))
    return result.first()


async def count_recent_reporters(session: AsyncSession, *, person_id: int, since: datetime) -> int:
    """Distinct reporters who reported this person since ``since``."""
    row = await run_sql(
        session,
        (
            "SELECT count(DISTINCT coalesce(reporter_hmac, tracking_code)) FROM citizen_report "
            "WHERE person_id = :person AND created_at >= :since"
        ),
        {"person": person_id, "since": since},
    )
    return int(row.scalar_one())


async def mark_burst(session: AsyncSession, *, person_id: int, since: datetime) -> None:
    await run_sql(
        session,
        (
            "UPDATE citizen_report SET is_burst = true "
            "WHERE person_id = :person AND created_at >= :since AND NOT is_burst"
        ),
        {"person": person_id, "since": since},
    )


async def list_reports(
    session: AsyncSession, *, filters: dict[str, Any], limit: int, offset: int
) -> list[CitizenReport]:
    query = select(CitizenReport)
    for name, value in filters.items():
        query = query.where(getattr(CitizenReport, name) == value)
    result = await session.exec(
        query.order_by(col(CitizenReport.created_at).desc(), col(CitizenReport.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(result.all())
