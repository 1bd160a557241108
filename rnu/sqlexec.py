"""One ORM-aware ``execute`` for SQLAlchemy statements on SQLModel's AsyncSession.

SQLModel's ``AsyncSession.execute`` warns (deprecated in favour of ``exec``), and ``exec``'s
overloads only type SQLModel's own ``select``; this keeps SQLAlchemy ``select``/``insert``/
``update``/``text`` statements in the session's transaction with one typed entry point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def execute(
    session: AsyncSession,
    statement: Any,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Any:
    """Run ``statement`` in the session (ORM entities, synchronised updates, raw SQL)."""
    return await session.exec(statement, params=params)


async def run_sql(session: AsyncSession, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    """Raw SQL text on the session's own connection: same transaction, no ORM layer between.

    The repositories' hand-written statements (set-based counts, keyset pages) run through
    this one helper instead of a private copy each.
    """
    conn = await session.connection()
    return await conn.execute(text(sql), dict(params or {}))
