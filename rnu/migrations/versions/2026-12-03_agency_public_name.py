"""Agencies get a public name: what a citizen reads in "¿Quién revisó sus datos?" (issue 13.4).

`api_client.agency` is the operator's short code (`FISE-OSINERGMIN`), and audit rows name a
client as `agency:<id>:<code>`; a citizen should read the institution's name instead
("Fondo de Inclusión Social Energético (FISE) – Osinergmin"). Nullable: clients created
before this revision keep showing their code until an operator sets the name
(`rnu agencies name REF "…"`).

Revision ID: 0011_agency_public_name
Revises: 0010_staff_totp
Create Date: 2026-12-03 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_agency_public_name"
down_revision: str | None = "0010_staff_totp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_client",
        sa.Column("public_name", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("api_client", "public_name")
