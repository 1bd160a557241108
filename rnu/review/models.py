"""Rows matching could not decide on, waiting for an analyst."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from rnu.base import created_at_field, id_field, jsonb_field, timestamptz_field


class MatchReviewItem(SQLModel, table=True):
    """A grey-zone row and its candidate PGH people, ranked by match weight."""

    __tablename__ = "match_review_item"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'linked', 'new_person', 'distinct')", name="status_known"
        ),
    )

    id: int | None = id_field()
    roll_row_id: int = Field(foreign_key="roll_row.id", unique=True)
    batch_id: int = Field(foreign_key="load_batch.id", index=True)
    candidates: list[dict[str, Any]] = jsonb_field(default=list)
    status: str = Field(
        default="open", max_length=12, index=True, sa_column_kwargs={"server_default": "open"}
    )
    decided_by: str | None = None
    decided_at: datetime | None = timestamptz_field()
    created_at: datetime = created_at_field()
