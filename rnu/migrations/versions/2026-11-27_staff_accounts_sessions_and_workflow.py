"""staff accounts sessions and workflow

Revision ID: 0002_staff
Revises: 0001
Create Date: 2026-11-27 05:04:23.488647
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_staff"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "staff_user",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "districts",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role <> 'volunteer' OR organisation IS NOT NULL",
            name=op.f("ck_staff_user_volunteer_has_organisation"),
        ),
        sa.CheckConstraint(
            "role IN ('analyst', 'supervisor', 'admin', 'volunteer')",
            name=op.f("ck_staff_user_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_user_username")),
    )
    op.create_table(
        "staff_session",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_staff_session_user_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_session_token_hash")),
    )
    op.create_index(op.f("ix_staff_session_user_id"), "staff_session", ["user_id"], unique=False)
    op.create_table(
        "field_task",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("flag_id", sa.BigInteger(), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("instructions", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ubigeo", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
        sa.Column(
            "status",
            sqlmodel.sql.sqltypes.AutoString(length=10),
            server_default="open",
            nullable=False,
        ),
        sa.Column("finding", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "finding IS NULL OR finding IN ('confirma', 'no_confirma', 'no_ubicado')",
            name=op.f("ck_field_task_finding_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'cancelled')", name=op.f("ck_field_task_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["staff_user.id"], name=op.f("fk_field_task_assignee_id_staff_user")
        ),
        sa.ForeignKeyConstraint(["flag_id"], ["flag.id"], name=op.f("fk_field_task_flag_id_flag")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_task")),
    )
    op.create_index("ix_field_task_assignee", "field_task", ["assignee_id", "status"], unique=False)
    op.create_index(op.f("ix_field_task_flag_id"), "field_task", ["flag_id"], unique=False)
    op.create_table(
        "flag_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("flag_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["flag_id"], ["flag.id"], name=op.f("fk_flag_event_flag_id_flag")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_event")),
    )
    op.create_index("ix_flag_event_flag", "flag_event", ["flag_id", "at"], unique=False)
    op.create_table(
        "evidence",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("uploaded_by", sa.BigInteger(), nullable=False),
        sa.Column("stored_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')",
            name=op.f("ck_evidence_media_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["citizen_report.id"], name=op.f("fk_evidence_report_id_citizen_report")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["field_task.id"], name=op.f("fk_evidence_task_id_field_task")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["staff_user.id"], name=op.f("fk_evidence_uploaded_by_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_evidence_stored_name")),
    )
    op.create_index(op.f("ix_evidence_report_id"), "evidence", ["report_id"], unique=False)
    op.create_table(
        "volunteer_report",
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["citizen_report.id"],
            name=op.f("fk_volunteer_report_report_id_citizen_report"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_volunteer_report_user_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_volunteer_report")),
    )
    op.create_index(
        op.f("ix_volunteer_report_user_id"), "volunteer_report", ["user_id"], unique=False
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_volunteer_report_user_id"), table_name="volunteer_report")
    op.drop_table("volunteer_report")
    op.drop_index(op.f("ix_evidence_report_id"), table_name="evidence")
    op.drop_table("evidence")
    op.drop_index("ix_flag_event_flag", table_name="flag_event")
    op.drop_table("flag_event")
    op.drop_index(op.f("ix_field_task_flag_id"), table_name="field_task")
    op.drop_index("ix_field_task_assignee", table_name="field_task")
    op.drop_table("field_task")
    op.drop_index(op.f("ix_staff_session_user_id"), table_name="staff_session")
    op.drop_table("staff_session")
    op.drop_table("staff_user")
