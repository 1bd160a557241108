"""Other agencies' API clients: a hashed key and the scopes it grants."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from rnu.base import created_at_field, id_field, text_array_field, timestamptz_field


class ApiClient(SQLModel, table=True):
    """An agency's key; only its hash is stored, the key itself is shown once."""

    __tablename__ = "api_client"

    id: int | None = id_field()
    agency: str
    key_prefix: str = Field(max_length=12, unique=True)
    key_hash: str
    scopes: list[str] = text_array_field()
    created_at: datetime = created_at_field()
    rotated_at: datetime | None = timestamptz_field()
    revoked_at: datetime | None = timestamptz_field()
