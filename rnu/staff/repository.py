"""All SQL of accounts and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.sqlexec import execute
from rnu.staff.models import StaffSession, StaffUser


async def get_user_by_username(session: AsyncSession, *, username: str) -> StaffUser | None:
    result = await execute(session, select(StaffUser).where(StaffUser.username == username))
    found: StaffUser | None = result.first()
    return found


async def get_user(session: AsyncSession, *, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def list_users(session: AsyncSession, *, role: str | None = None) -> list[StaffUser]:
    query = select(StaffUser).order_by(col(StaffUser.username))
    if role is not None:
        query = query.where(StaffUser.role == role)
    return list((await execute(session, query)).all())


async def list_volunteers_for(session: AsyncSession, *, ubigeo: str) -> list[StaffUser]:
    """Active volunteers assigned to this district."""
    query = (
        select(StaffUser)
        .where(StaffUser.role == "volunteer", col(StaffUser.is_active))
        .where(col(StaffUser.districts).contains([ubigeo]))
        .order_by(col(StaffUser.username))
    )
    return list((await execute(session, query)).all())


async def get_session_by_hash(
    session: AsyncSession, *, token_hash: str
) -> tuple[StaffSession, StaffUser] | None:
    query = (
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == StaffSession.user_id)
        .where(StaffSession.token_hash == token_hash)
    )
    row = (await execute(session, query)).first()
    return (row[0], row[1]) if row else None


async def revoke_sessions(
    session: AsyncSession,
    *,
    now: datetime,
    user_id: int | None = None,
    token_hash: str | None = None,
) -> int:
    """Revoke one session (by token hash) or all of a user's live sessions."""
    query = update(StaffSession).where(col(StaffSession.revoked_at).is_(None))
    if token_hash is not None:
        query = query.where(col(StaffSession.token_hash) == token_hash)
    if user_id is not None:
        query = query.where(col(StaffSession.user_id) == user_id)
    result = await execute(session, query.values(revoked_at=now))
    return int(result.rowcount or 0)
