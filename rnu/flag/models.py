"""Integrity flags: filtración and duplicates found by the checks, with their evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from rnu.base import bigint_ref, created_at_field, id_field, jsonb_field, timestamptz_field


class Flag(SQLModel, table=True):
    """One finding. `subject_key` makes re-runs idempotent: one flag per kind and subject."""

    __table_args__ = (
        UniqueConstraint(
            "kind", "program_code", "period", "subject_key", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint(
            "status IN ('open', 'confirmed', 'dismissed', 'resolved')", name="status_known"
        ),
        CheckConstraint("severity IN ('low', 'medium', 'high')", name="severity_known"),
        CheckConstraint("verification IN ('verified', 'pending')", name="verification_known"),
        Index("ix_flag_queue", "status", "kind", "program_code", "period"),
    )

    id: int | None = id_field()
    kind: str = Field(max_length=40)
    severity: str = Field(
        default="medium", max_length=6, sa_column_kwargs={"server_default": "medium"}
    )
    subject_key: str  # e.g. "person:123" or "household:45"
    # References checked once per check run, not per row (migration 0009_flag_refs).
    person_id: int | None = bigint_ref(index=True)
    household_id: int | None = bigint_ref()
    roll_row_id: int | None = bigint_ref(index=True)  # the row that shows it
    program_code: str | None = Field(default=None, max_length=20)
    period: str | None = Field(default=None, max_length=7)
    ubigeo: str | None = Field(default=None, max_length=6)
    evidence: dict[str, Any] = jsonb_field()
    evidence_hash: str = Field(default="", sa_column_kwargs={"server_default": ""})
    status: str = Field(default="open", max_length=10, sa_column_kwargs={"server_default": "open"})
    # 'pending' ("por verificar"): the link the finding rests on is unconfirmed (the row is in
    # review, or its fuzzy link is near the threshold); public figures count 'verified' only.
    verification: str = Field(
        default="verified", max_length=8, sa_column_kwargs={"server_default": "verified"}
    )
    assigned_to: str | None = None
    reviewer: str | None = None
    dismissed_reason: str | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamptz_field()
