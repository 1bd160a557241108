"""The registry's data version: bumped by every committed batch so cached answers go stale."""

from __future__ import annotations

import asyncpg
from sqlmodel import Field, SQLModel


class RegistryState(SQLModel, table=True):
    """A single row; PostgreSQL holds the truth, Redis only a copy for cache keys."""

    __tablename__ = "registry_state"

    id: int = Field(default=1, primary_key=True)
    data_version: int = 0


async def bump_data_version(conn: asyncpg.Connection) -> None:
    """Make every cached answer stale: keys carry the version (see `rnu.cache`).

    Called in the transaction that changes what answers say (a committed batch, flags
    written by the checks), so the new version is visible exactly when the new data is.
    """
    await conn.execute("UPDATE registry_state SET data_version = data_version + 1 WHERE id = 1")
