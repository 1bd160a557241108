"""Citizen and volunteer reports of possible filtración, followed by a tracking code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from rnu.base import bigint_fk, created_at_field, id_field, jsonb_field


class CitizenReport(SQLModel, table=True):
    """A report; `history` is the list of status changes the reporter can follow."""

    __tablename__ = "citizen_report"

    id: int | None = id_field()
    tracking_code: str = Field(unique=True, max_length=20)
    program_code: str | None = Field(default=None, foreign_key="program.code", max_length=20)
    ubigeo: str | None = Field(default=None, max_length=6, index=True)
    entry_id: str | None = None  # opaque roll-entry id, never a DNI
    enrollment_id: int | None = bigint_fk("enrollment.id")
    reason_code: str = Field(max_length=30)
    text: str | None = None
    contact: str | None = None
    status: str = Field(
        default="recibido", max_length=20, sa_column_kwargs={"server_default": "recibido"}
    )
    history: list[dict[str, Any]] = jsonb_field(default=list)
    reporter_hmac: str | None = None
    created_at: datetime = created_at_field()
