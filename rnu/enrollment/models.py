"""Program rolls: every loaded row as sent, and the deduplicated enrollment it supports.

These are the registry's two fact tables (a row per program row, tens of millions a year).
Their references carry no per-row foreign-key triggers: each batch's references are checked
set-based inside its own transaction (`rnu.ingest.references`), which costs a few seconds per
million rows instead of half the merge, and what they point to (people, households, batches,
programs) is never deleted: history is kept and a replaced batch only changes status.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from rnu.base import bigint_ref, id_field, jsonb_field, text_array_field


class RollRow(SQLModel, table=True):
    """One loaded program row, with who matching says it is and why (the evidence trail)."""

    __tablename__ = "roll_row"
    __table_args__ = (
        UniqueConstraint("batch_id", "row_number"),
        CheckConstraint(
            "outcome IN ('linked', 'review', 'unmatched', 'duplicate_row')", name="outcome_known"
        ),
        Index("ix_roll_row_person", "person_id"),
    )

    id: int | None = id_field()
    batch_id: int  # leads the (batch_id, row_number) unique index, which serves batch lookups
    row_number: str
    person_id: int | None = bigint_ref()
    household_id: int | None = bigint_ref()
    outcome: str = Field(max_length=14)
    method: str | None = Field(default=None, max_length=20)
    weight: float | None = None
    agreements: dict[str, Any] = jsonb_field()
    doc_type: str | None = None
    doc_number: str | None = None
    doc_notes: list[str] = text_array_field()
    nombres: str | None = None
    apellido_paterno: str | None = None
    apellido_materno: str | None = None
    full_name: str = Field(default="", sa_column_kwargs={"server_default": ""})
    birth_on: date | None = None
    sex: str | None = None
    ubigeo: str | None = None
    household_code: str | None = None
    extra: dict[str, Any] = jsonb_field()


class Enrollment(SQLModel, table=True):
    """A person's membership of a program's roll in one period (one per person and period)."""

    __table_args__ = (
        UniqueConstraint("person_id", "program_code", "period"),
        Index("ix_enrollment_place", "ubigeo", "program_code", "period"),
        Index("ix_enrollment_program_period", "program_code", "period"),
    )

    id: int | None = id_field()
    person_id: int
    program_code: str = Field(max_length=20)
    period: str = Field(max_length=7)
    household_id: int | None = bigint_ref()
    ubigeo: str | None = Field(default=None, max_length=6)
    batch_id: int = Field(index=True)
    roll_row_id: int
    match_method: str = Field(max_length=20)
    match_weight: float | None = None
    match_evidence: dict[str, Any] = jsonb_field()
    status: str = Field(
        default="active", max_length=12, sa_column_kwargs={"server_default": "active"}
    )
