"""Citizen and volunteer reports of possible filtración, followed by a tracking code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from rnu.base import bigint_fk, created_at_field, id_field, jsonb_field

REASON_CODES: tuple[str, ...] = (
    "fallecido",
    "no_vive_en_el_distrito",
    "no_es_pobre",
    "pensionista",
    "duplicado",
    "otro",
)
STATUSES: tuple[str, ...] = ("recibido", "en_revision", "verificado", "descartado", "cerrado")


class CitizenReport(SQLModel, table=True):
    """A report; `history` is the list of status changes the reporter can follow.

    `person_id` is resolved from the roll entry the report points at (never sent by the
    reporter); `duplicate_count` counts identical reports folded into this one; `is_burst` marks
    a report that arrived in a burst of reports against the same person, for analysts.
    """

    __tablename__ = "citizen_report"
    __table_args__ = (
        Index("ix_citizen_report_person", "person_id", "created_at"),
        Index("ix_citizen_report_queue", "status", "created_at"),
    )

    id: int | None = id_field()
    tracking_code: str = Field(unique=True, max_length=20)
    program_code: str | None = Field(default=None, foreign_key="program.code", max_length=20)
    ubigeo: str | None = Field(default=None, max_length=6, index=True)
    period: str | None = Field(default=None, max_length=7)
    entry_id: str | None = None  # opaque roll-entry id, never a DNI
    enrollment_id: int | None = bigint_fk("enrollment.id")
    person_id: int | None = bigint_fk("person.id")
    reason_code: str = Field(max_length=30)
    text: str | None = None
    contact: str | None = None
    status: str = Field(
        default="recibido", max_length=20, sa_column_kwargs={"server_default": "recibido"}
    )
    history: list[dict[str, Any]] = jsonb_field(default=list)
    reporter_hmac: str | None = None
    reporter_role: str = Field(
        default="public", max_length=20, sa_column_kwargs={"server_default": "public"}
    )
    duplicate_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=sql_text("0"))
    )
    is_burst: bool = Field(default=False, sa_column_kwargs={"server_default": sql_text("false")})
    created_at: datetime = created_at_field()
