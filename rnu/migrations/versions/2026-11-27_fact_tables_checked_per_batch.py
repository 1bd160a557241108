"""The fact tables' references are checked per batch, not by per-row foreign-key triggers.

Measured on a 1M-row SIS load (bench/load_speed.py): the eight foreign-key triggers on
roll_row and enrollment took about half of the merge, one SPI query per row and reference.
`rnu.ingest.references` checks the same references set-based inside each batch's transaction.
The index on roll_row.batch_id duplicated the leading column of (batch_id, row_number).

Revision ID: 0006_fact_refs
Revises: 0005_agency
Create Date: 2026-11-27 08:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_fact_refs"
down_revision: str | None = "0005_agency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table, referred column)
_REFERENCES = [
    ("roll_row", "batch_id", "load_batch", "id"),
    ("roll_row", "household_id", "household", "id"),
    ("roll_row", "person_id", "person", "id"),
    ("enrollment", "batch_id", "load_batch", "id"),
    ("enrollment", "household_id", "household", "id"),
    ("enrollment", "person_id", "person", "id"),
    ("enrollment", "program_code", "program", "code"),
    ("enrollment", "roll_row_id", "roll_row", "id"),
]


def upgrade() -> None:
    for table, column, referred, _ in _REFERENCES:
        op.drop_constraint(op.f(f"fk_{table}_{column}_{referred}"), table, type_="foreignkey")
    op.drop_index(op.f("ix_roll_row_batch_id"), table_name="roll_row")


def downgrade() -> None:
    op.create_index(op.f("ix_roll_row_batch_id"), "roll_row", ["batch_id"], unique=False)
    for table, column, referred, referred_column in _REFERENCES:
        op.create_foreign_key(
            op.f(f"fk_{table}_{column}_{referred}"), table, referred, [column], [referred_column]
        )
