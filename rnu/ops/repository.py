"""SQL for operations: load-batch figures for /metrics and the people peak mode warms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class LoadStats:
    batches_by_status: dict[str, int] = field(default_factory=dict)
    rows_by_outcome: dict[str, int] = field(default_factory=dict)
    rows_per_second_by_source: dict[str, float] = field(default_factory=dict)


async def load_stats(session: AsyncSession) -> LoadStats:
    """Batches by status, committed rows by outcome, and the latest batch's speed per source."""
    statuses = await (await session.connection()).execute(
        text("SELECT status, count(*) FROM load_batch GROUP BY status")
    )
    outcomes = await (await session.connection()).execute(
        text(
            "SELECT o.key, sum((o.value)::text::numeric)::bigint"
            " FROM load_batch b, jsonb_each(b.outcomes) o"
            " WHERE b.status = 'committed' AND jsonb_typeof(o.value) = 'number'"
            " GROUP BY o.key"
        )
    )
    speeds = await (await session.connection()).execute(
        text(
            "SELECT DISTINCT ON (source) source,"
            " rows_read / greatest(extract(epoch FROM finished_at - started_at), 0.001)"
            " FROM load_batch WHERE status = 'committed' AND finished_at IS NOT NULL"
            " ORDER BY source, finished_at DESC"
        )
    )
    return LoadStats(
        batches_by_status={str(s): int(n) for s, n in statuses.all()},
        rows_by_outcome={str(k): int(n) for k, n in outcomes.all()},
        rows_per_second_by_source={str(s): float(r) for s, r in speeds.all()},
    )


@dataclass(frozen=True)
class LookupSubject:
    """A person a citizen could look up: their DNI and the second factor they would type."""

    dni: str
    birth_on: date


async def stream_lookup_subjects(
    session: AsyncSession, *, digits: tuple[str, ...] | None = None, batch: int = 2000
) -> AsyncIterator[list[LookupSubject]]:
    """Living people with a DNI and a birth date, in batches.

    ``digits`` keeps only DNIs ending in those digits (the cohorts served first in peak mode).
    Keyset pagination on person.id, so memory stays flat on a national registry.
    """
    last_id = 0
    digit_filter = " AND right(p.doc_number, 1) = ANY(:digits)" if digits else ""
    while True:
        result = await (await session.connection()).execute(
            text(
                "SELECT p.id, p.doc_number, p.birth_on FROM person p"
                " WHERE p.id > :last AND p.doc_type = 'DNI' AND p.doc_number IS NOT NULL"
                " AND p.birth_on IS NOT NULL AND p.death_on IS NULL"
                + digit_filter
                + " ORDER BY p.id LIMIT :batch"
            ),
            {"last": last_id, "batch": batch, "digits": list(digits or ())},
        )
        rows = result.all()
        if not rows:
            return
        last_id = int(rows[-1][0])
        yield [LookupSubject(dni=str(r[1]), birth_on=r[2]) for r in rows]
