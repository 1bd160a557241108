"""A batch's period is a month YYYY-MM or a year YYYY, checked by the database.

`rnu load juntos FILE --period 2026-13` committed a batch with period 2026-13 (the command
line now refuses it, `rnu.period.roll_period`). Such a period then broke every page that
places a roll in time: the public statistics read each program's latest period, and
"2026-13" sorted after "2026-10", so /estadisticas answered 400 for every citizen. The
constraint makes any other way in fail at the INSERT. NOT VALID: rows already there are not
rechecked (a registry holding such a batch fixes or drops it by hand: an UPDATE of that row
must give it a period of the right form; new rows are checked).

Revision ID: 0013_batch_period_form
Revises: 0012_constancia
Create Date: 2026-12-04 20:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_batch_period_form"
down_revision: str | None = "0012_constancia"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE load_batch ADD CONSTRAINT ck_load_batch_period_form "
        "CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$') NOT VALID"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE load_batch DROP CONSTRAINT IF EXISTS ck_load_batch_period_form")
