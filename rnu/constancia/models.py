"""A constancia RNU issued: its verification code, a hash of what it says, and masked fields.

No DNI and no birth date are stored: ``/verificar`` shows only what this row holds, which is
no more than the printed constancia shows (the DNI masked to its last three digits, the name
masked as on the public rolls).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from rnu.base import created_at_field, id_field, jsonb_field


class Constancia(SQLModel, table=True):
    """One issued constancia; ``certified`` is the masked content ``content_sha256`` covers."""

    __tablename__ = "constancia"

    id: int | None = id_field()
    code: str = Field(unique=True, max_length=20)  # random, from secrets (not guessable)
    content_sha256: str = Field(max_length=64)
    issued_at: datetime = created_at_field()
    dni_masked: str = Field(max_length=12)
    name_masked: str = Field(max_length=200)
    certified: dict[str, Any] = jsonb_field()
