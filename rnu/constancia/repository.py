"""SQL of issued constancias: store one, find one by its code."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.constancia.models import Constancia


async def add(session: AsyncSession, row: Constancia) -> Constancia:
    """Insert in the caller's transaction (with the audit row of its download)."""
    session.add(row)
    await session.flush()
    return row


async def by_code(session: AsyncSession, code: str) -> Constancia | None:
    result = await session.exec(select(Constancia).where(Constancia.code == code))
    return result.first()


async def code_exists(session: AsyncSession, code: str) -> bool:
    return await by_code(session, code) is not None
