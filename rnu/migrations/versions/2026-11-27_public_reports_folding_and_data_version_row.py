"""public reports: person, period, folding and burst columns; the registry_state row

Revision ID: 0004_public
Revises: 0003_flag_roll_row
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004_public"
down_revision: str | None = "0003_flag_roll_row"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("citizen_report", sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7)))
    op.add_column("citizen_report", sa.Column("person_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "citizen_report",
        sa.Column(
            "reporter_role",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            nullable=False,
            server_default=sa.text("'public'"),
        ),
    )
    op.add_column(
        "citizen_report",
        sa.Column("duplicate_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "citizen_report",
        sa.Column("is_burst", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.create_foreign_key(
        op.f("fk_citizen_report_person_id_person"),
        "citizen_report",
        "person",
        ["person_id"],
        ["id"],
    )
    op.create_index(
        "ix_citizen_report_person", "citizen_report", ["person_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_citizen_report_queue", "citizen_report", ["status", "created_at"], unique=False
    )
    # The ingest bumps data_version with an UPDATE of row 1; without the row the version never
    # moves and cached answers would outlive the data they came from.
    op.execute(
        "INSERT INTO registry_state (id, data_version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
    )


def downgrade() -> None:
    op.drop_index("ix_citizen_report_queue", table_name="citizen_report")
    op.drop_index("ix_citizen_report_person", table_name="citizen_report")
    op.drop_constraint(
        op.f("fk_citizen_report_person_id_person"), "citizen_report", type_="foreignkey"
    )
    op.drop_column("citizen_report", "is_burst")
    op.drop_column("citizen_report", "duplicate_count")
    op.drop_column("citizen_report", "reporter_role")
    op.drop_column("citizen_report", "person_id")
    op.drop_column("citizen_report", "period")
