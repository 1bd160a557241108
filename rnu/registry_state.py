"""The registry's data version: bumped by every committed batch so cached answers go stale."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RegistryState(SQLModel, table=True):
    """A single row; PostgreSQL holds the truth, Redis only a copy for cache keys."""

    __tablename__ = "registry_state"

    id: int = Field(default=1, primary_key=True)
    data_version: int = 0
