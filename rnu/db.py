"""Engine, sessions and raw connections to the system of record."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.embedded import plain_url, sqlalchemy_url


def make_engine(database_url: str, *, pool_size: int = 10, role: str = "app") -> AsyncEngine:
    """An asyncpg engine; application_name tells processes apart in pg_stat_activity."""
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={
            "server_settings": {"application_name": f"rnu-{role}-{os.getpid()}"},
            "timeout": 5,
        },
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def connect_raw(database_url: str) -> asyncpg.Connection:
    """A plain asyncpg connection, for COPY-based bulk work outside the ORM."""
    return await asyncpg.connect(plain_url(database_url), timeout=5)
