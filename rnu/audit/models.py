"""The audit trail: every read of personal data by staff or agencies, and every staff action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from rnu.base import created_at_field, id_field, jsonb_field, text_array_field


class AuditEvent(SQLModel, table=True):
    """Who did what to whose data, when and why; `subject_hmac` is the HMAC of the DNI."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject", "subject_hmac", "at"),)

    id: int | None = id_field()
    at: datetime = created_at_field()
    actor_kind: str = Field(max_length=20)  # analyst | agency | volunteer | system
    actor_id: str
    action: str
    purpose: str | None = None
    subject_hmac: str | None = None
    fields: list[str] = text_array_field()
    details: dict[str, Any] = jsonb_field()
