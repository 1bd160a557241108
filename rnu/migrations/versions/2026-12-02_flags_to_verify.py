"""Flags that rest on an unconfirmed link are held "por verificar" (issue 10).

`flag.verification` is 'verified' when the finding rests on a link RNU can stand behind (an
equal document, a reviewer's decision, a fuzzy link well above its load's threshold), and
'pending' when the row is waiting in the review queue or its fuzzy link is near the
threshold; public statistics and open data count only verified flags, so a namesake's
false link cannot show as filtración. `load_batch.link_threshold` keeps the weight a link
needed in that load (the model is fitted per load), which "near the threshold" is read
against.

Revision ID: 0008_flag_verification
Revises: 0007_records_queries
Create Date: 2026-12-02 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_flag_verification"
down_revision: str | None = "0007_records_queries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "flag",
        sa.Column("verification", sa.String(length=8), server_default="verified", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_flag_verification_known"), "flag", "verification IN ('verified', 'pending')"
    )
    op.add_column("load_batch", sa.Column("link_threshold", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("load_batch", "link_threshold")
    op.drop_constraint(op.f("ck_flag_verification_known"), "flag", type_="check")
    op.drop_column("flag", "verification")
