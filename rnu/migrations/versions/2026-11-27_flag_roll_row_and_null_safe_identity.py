"""flag: the roll row it points at, and one identity even without program or period

Revision ID: 0003_flag_roll_row
Revises: 0002_staff
Create Date: 2026-11-27 06:10:00

A flag points at the roll row that shows the problem (so `rnu flags export` can name the
file and row). PGH duplicates have no program or period: with plain NULLs the unique
identity would let re-runs insert duplicates, so the constraint treats NULLs as equal.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_flag_roll_row"
down_revision: str | None = "0002_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UQ = "uq_flag_kind_program_code_period_subject_key"
_COLUMNS = ["kind", "program_code", "period", "subject_key"]


def upgrade() -> None:
    op.add_column("flag", sa.Column("roll_row_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_flag_roll_row_id_roll_row"), "flag", "roll_row", ["roll_row_id"], ["id"]
    )
    op.create_index(op.f("ix_flag_roll_row_id"), "flag", ["roll_row_id"], unique=False)
    op.drop_constraint(_UQ, "flag", type_="unique")
    op.create_unique_constraint(_UQ, "flag", _COLUMNS, postgresql_nulls_not_distinct=True)


def downgrade() -> None:
    op.drop_constraint(_UQ, "flag", type_="unique")
    op.create_unique_constraint(_UQ, "flag", _COLUMNS)
    op.drop_index(op.f("ix_flag_roll_row_id"), table_name="flag")
    op.drop_constraint(op.f("fk_flag_roll_row_id_roll_row"), "flag", type_="foreignkey")
    op.drop_column("flag", "roll_row_id")
