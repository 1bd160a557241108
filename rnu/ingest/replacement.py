"""A new roll replaces the period's roll only when it is not a collapse of it.

Snapshot semantics make a program file the whole roll of its period: a garbage file whose
every row is quarantined (or a truncated one) would otherwise replace 91 enrolments with 0
and take everyone off the registry until someone noticed. The load refuses, inside its
transaction, so the rollback keeps the previous roll live; the sender resends with an
explicit confirmation when the drop is real (a program closing a district).
"""

from __future__ import annotations

import asyncpg

from rnu.errors import Conflict

# Without confirmation a roll may shrink by at most this share of the roll it replaces.
MAX_DROP = 0.5


class RollShrinkRefused(Conflict):
    """The new roll would empty, or more than halve, the roll it replaces."""


async def check_replacement(
    conn: asyncpg.Connection,
    *,
    batch_id: int,
    program: str,
    period: str,
    enrolled: int,
    confirmed: bool,
) -> None:
    """Raise RollShrinkRefused when batch `batch_id` would collapse the roll it replaces."""
    if confirmed:
        return
    previous: int | None = await conn.fetchval(
        """
        SELECT coalesce((outcomes->>'enrolled')::int, rows_loaded) FROM load_batch
        WHERE replaced_by_id = $1 ORDER BY id DESC LIMIT 1
        """,
        batch_id,
    )
    if not previous or enrolled >= previous * (1 - MAX_DROP):
        return
    drop = 1 - enrolled / previous
    raise RollShrinkRefused(
        f"the new {program} roll for {period} has {enrolled:,} enrolments where the roll it "
        f"would replace has {previous:,} (a drop of {drop:.0%}); nothing was replaced and the "
        "previous roll stays in force. Check the file's quarantine; if the drop is real, "
        "send it again confirming the replacement"
    )
