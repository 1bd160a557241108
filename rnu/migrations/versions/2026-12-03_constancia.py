"""Issued constancias (issue 13.5): a random verification code, the content's hash, masked fields.

A citizen who passed the DNI + birth date check can print a constancia of their lookup;
anyone can type its code at `/verificar` to see that it is genuine. The table holds no DNI and
no birth date: the DNI masked to its last three digits and the name masked, as printed.

Revision ID: 0012_constancia
Revises: 0011_agency_public_name
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_constancia"
down_revision: str | None = "0011_agency_public_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "constancia",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("content_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "issued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("dni_masked", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("name_masked", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "certified",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_constancia")),
        sa.UniqueConstraint("code", name=op.f("uq_constancia_code")),
    )


def downgrade() -> None:
    op.drop_table("constancia")
