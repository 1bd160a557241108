"""Load batches (one per file received) and the rows RNU could not load."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from rnu.base import (
    bigint_fk,
    created_at_field,
    id_field,
    jsonb_field,
    text_array_field,
    timestamptz_field,
)


class LoadBatch(SQLModel, table=True):
    """One file loaded for one source and period; the same bytes load once (sha256)."""

    __tablename__ = "load_batch"
    __table_args__ = (
        UniqueConstraint("source", "period", "sha256"),
        CheckConstraint(
            "status IN ('loading', 'committed', 'replaced', 'failed')", name="status_known"
        ),
        CheckConstraint(
            "status <> 'committed' OR rows_read = rows_loaded + rows_quarantined",
            name="rows_add_up",
        ),
        # migration 0013: a month or a year (a period 2026-13 broke the statistics page)
        CheckConstraint("period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'", name="period_form"),
    )

    id: int | None = id_field()
    source: str = Field(max_length=20)  # a program code, or PGH / DEATHS
    period: str = Field(max_length=7)  # YYYY-MM (YYYY for yearly programs)
    file_name: str
    sha256: str = Field(max_length=64)
    status: str = Field(max_length=12)
    rows_read: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    rows_loaded: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    rows_quarantined: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    outcomes: dict[str, Any] = jsonb_field()  # linked / review / unmatched / duplicate_row …
    timings: dict[str, Any] = jsonb_field()  # seconds per stage
    link_threshold: float | None = None  # weight a fuzzy link needed in this load's model
    error: str | None = None
    replaced_by_id: int | None = bigint_fk("load_batch.id")
    started_at: datetime = created_at_field()
    finished_at: datetime | None = timestamptz_field()


class QuarantinedRow(SQLModel, table=True):
    """A row that could not be loaded, kept with its reasons so the sector can fix and resend."""

    __tablename__ = "quarantined_row"
    __table_args__ = (UniqueConstraint("batch_id", "row_number"),)

    id: int | None = id_field()
    batch_id: int = Field(foreign_key="load_batch.id", index=True)
    row_number: str
    raw: dict[str, Any] = jsonb_field()
    reasons: list[str] = text_array_field()
