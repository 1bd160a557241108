"""Agencies: a per-client record rate, and the GraphQL queries each agency registered.

The record quota counts person records, not requests (one GraphQL call with 15 aliases read
7,034 records on a daily quota of 2): ``records_per_minute`` bounds a burst beside the daily
quota. ``persisted_query`` holds the allow-list of query hashes production runs.

Revision ID: 0007_records_queries
Revises: 0006_fact_refs
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_records_queries"
down_revision: str | None = "0006_fact_refs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_client",
        sa.Column("records_per_minute", sa.Integer(), server_default="10000", nullable=False),
    )
    op.create_table(
        "persisted_query",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("query", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"], name=op.f("fk_persisted_query_client_id_api_client")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persisted_query")),
        sa.UniqueConstraint(
            "client_id", "sha256", name=op.f("uq_persisted_query_client_id_sha256")
        ),
    )


def downgrade() -> None:
    op.drop_table("persisted_query")
    op.drop_column("api_client", "records_per_minute")
