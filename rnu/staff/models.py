"""Staff and volunteer accounts, their server-side sessions, and the analysts' workflow records.

Sessions live in PostgreSQL (not Redis) so a Redis outage logs nobody out and an
administrator can revoke them; only the SHA-256 of a session token is stored, so a copy of
the table does not hand out live sessions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from rnu.base import (
    bigint_fk,
    created_at_field,
    id_field,
    jsonb_field,
    text_array_field,
    timestamptz_field,
)

STAFF_ROLES = ("analyst", "supervisor", "admin")
ACCOUNT_ROLES = (*STAFF_ROLES, "volunteer")
# Roles that must log in with a TOTP code (issue 11.11): they act in bulk and manage accounts.
TOTP_ROLES = ("supervisor", "admin")


class StaffUser(SQLModel, table=True):
    """An analyst, supervisor, admin or vigilance volunteer (organisation + districts)."""

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint(
            "role IN ('analyst', 'supervisor', 'admin', 'volunteer')", name="role_known"
        ),
        CheckConstraint(
            "role <> 'volunteer' OR organisation IS NOT NULL", name="volunteer_has_organisation"
        ),
    )

    id: int | None = id_field()
    username: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=12)
    password_hash: str
    organisation: str | None = None
    districts: list[str] = text_array_field()
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": "true"})
    # Unused since issue 11.11: the login throttle (api/auth/login_guard.py) replaced the lockout,
    # which let a stranger lock an analyst out. Kept so older rows and tools still read.
    failed_logins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = timestamptz_field()
    # The TOTP secret, AES-GCM-sealed under a key derived from RNU_SECRET_KEY (rnu/staff/totp.py);
    # the last 30-second step a code was accepted for, so a code works once.
    totp_secret: str | None = None
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    totp_enrolled_at: datetime | None = timestamptz_field()
    last_login_at: datetime | None = timestamptz_field()
    created_at: datetime = created_at_field()


class StaffSession(SQLModel, table=True):
    """A login. Looked up by the token's hash; `csrf_token` is the synchronizer token."""

    __tablename__ = "staff_session"

    id: int | None = id_field()
    token_hash: str = Field(unique=True, max_length=64)
    user_id: int = bigint_fk("staff_user.id", nullable=False, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = created_at_field()
    last_seen_at: datetime = created_at_field()
    expires_at: datetime = timestamptz_field(nullable=False)
    revoked_at: datetime | None = timestamptz_field()


class FlagEvent(SQLModel, table=True):
    """One step in a flag's history: comment, confirm, dismiss, assign, task answer."""

    __tablename__ = "flag_event"
    __table_args__ = (Index("ix_flag_event_flag", "flag_id", "at"),)

    id: int | None = id_field()
    flag_id: int = bigint_fk("flag.id", nullable=False)
    at: datetime = created_at_field()
    actor: str
    action: str = Field(max_length=20)
    text: str | None = None
    details: dict[str, Any] = jsonb_field()


class FieldTask(SQLModel, table=True):
    """A field-verification request from an analyst to a volunteer about one flag."""

    __tablename__ = "field_task"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered', 'cancelled')", name="status_known"),
        CheckConstraint(
            "finding IS NULL OR finding IN ('confirma', 'no_confirma', 'no_ubicado')",
            name="finding_known",
        ),
        Index("ix_field_task_assignee", "assignee_id", "status"),
    )

    id: int | None = id_field()
    flag_id: int = bigint_fk("flag.id", nullable=False, index=True)
    assignee_id: int = bigint_fk("staff_user.id", nullable=False)
    created_by: str
    instructions: str
    ubigeo: str | None = Field(default=None, max_length=6)
    status: str = Field(default="open", max_length=10, sa_column_kwargs={"server_default": "open"})
    finding: str | None = Field(default=None, max_length=12)
    answer: str | None = None
    created_at: datetime = created_at_field()
    answered_at: datetime | None = timestamptz_field()


class Evidence(SQLModel, table=True):
    """An uploaded photo or PDF, stored under the data folder by a random name."""

    __table_args__ = (
        CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')",
            name="media_type_known",
        ),
    )

    id: int | None = id_field()
    uploaded_by: int = bigint_fk("staff_user.id", nullable=False)
    stored_name: str = Field(unique=True, max_length=80)
    media_type: str = Field(max_length=20)
    size_bytes: int
    sha256: str = Field(max_length=64)
    report_id: int | None = bigint_fk("citizen_report.id", index=True)
    task_id: int | None = bigint_fk("field_task.id")
    created_at: datetime = created_at_field()


class VolunteerReport(SQLModel, table=True):
    """Which volunteer filed which report (a report by a citizen has no row here)."""

    __tablename__ = "volunteer_report"

    report_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("citizen_report.id"), primary_key=True)
    )
    user_id: int = bigint_fk("staff_user.id", nullable=False, index=True)
