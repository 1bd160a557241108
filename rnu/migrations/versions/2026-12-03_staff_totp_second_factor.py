"""Staff TOTP second factor (issue 11.11): the sealed secret and the last step accepted.

Supervisors and admins log in with a 6-digit TOTP code. `totp_secret` holds the secret sealed
with AES-GCM under a key derived from RNU_SECRET_KEY (never in clear); `totp_last_step` is the
30-second step of the last code accepted, so a code cannot be replayed.

Revision ID: 0010_staff_totp
Revises: 0009_flag_refs
Create Date: 2026-12-03 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_staff_totp"
down_revision: str | None = "0009_flag_refs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("staff_user", sa.Column("totp_secret", sa.String(), nullable=True))
    op.add_column("staff_user", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column(
        "staff_user", sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("staff_user", "totp_enrolled_at")
    op.drop_column("staff_user", "totp_last_step")
    op.drop_column("staff_user", "totp_secret")
