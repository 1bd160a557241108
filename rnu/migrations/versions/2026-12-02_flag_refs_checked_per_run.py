"""Flags' references are checked per check run, not by per-row foreign-key triggers.

Measured on the checks after a 1M-row SIS load (bench/load_speed.py, 862k flags): the four
foreign-key triggers on flag (person, household, program, roll_row) were about 95 % of the
upsert into flag, one SPI query and one row lock in the referred table per flag and
reference (EXPLAIN ANALYZE: 4 x 22,799 trigger calls, 2.45 s of a 2.5 s upsert of 22,799
flags). `rnu.integrity.repository.write_flags` checks the same references set-based, once
per run, before the upsert; a dangling one aborts the run. flag_event and field_task keep
their foreign keys to flag (analysts write those one at a time).

Revision ID: 0009_flag_refs
Revises: 0008_flag_verification
Create Date: 2026-12-02 19:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_flag_refs"
down_revision: str | None = "0008_flag_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, referred table, referred column)
_REFERENCES = [
    ("household_id", "household", "id"),
    ("person_id", "person", "id"),
    ("program_code", "program", "code"),
    ("roll_row_id", "roll_row", "id"),
]


def upgrade() -> None:
    for column, referred, _ in _REFERENCES:
        op.drop_constraint(op.f(f"fk_flag_{column}_{referred}"), "flag", type_="foreignkey")


def downgrade() -> None:
    for column, referred, referred_column in _REFERENCES:
        op.create_foreign_key(
            op.f(f"fk_flag_{column}_{referred}"), "flag", referred, [column], [referred_column]
        )
