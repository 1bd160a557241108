"""The PGH index and fitted match model a load uses, built once per PGH version."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from rnu.ingest.rows import CanonicalRow
from rnu.matching.calibrate import fit
from rnu.matching.engine import Matcher
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord

# Document notes that mean the sector's document cannot be taken as proof on its own.
UNTRUSTED_NOTES = frozenset({"wrong_check_char", "dni_too_short", "dni_not_numeric"})


def to_record(row: CanonicalRow, key: str) -> PersonRecord:
    return PersonRecord(
        key=key,
        doc_type=row.doc_type,
        doc_number=row.doc_number,
        doc_trusted=row.doc_number is not None and not UNTRUSTED_NOTES.intersection(row.doc_notes),
        nombres=row.nombres or "",
        apellido_paterno=row.apellido_paterno or "",
        apellido_materno=row.apellido_materno,
        birth_date=row.birth_date,
        sex=row.sex,
        ubigeo=row.ubigeo,
    )


@dataclass
class MatchContext:
    """A PGH index for one PGH version plus a model fitted on sector data against it."""

    pgh_version: int
    index: PghIndex
    matcher: Matcher | None = None
    build_seconds: float = 0.0
    fit_seconds: float = 0.0

    def matcher_for(self, sample: Sequence[PersonRecord]) -> Matcher:
        """The matcher, fitted on the first sample seen (m/u come from the data itself)."""
        if self.matcher is None:
            started = time.perf_counter()
            model, thresholds = fit(self.index, sample)
            self.matcher = Matcher(self.index, model, thresholds)
            self.fit_seconds = time.perf_counter() - started
        return self.matcher


_contexts: dict[str, MatchContext] = {}


async def pgh_version(conn: asyncpg.Connection) -> int:
    value: int = await conn.fetchval(
        "SELECT coalesce(max(id), 0) FROM load_batch WHERE source = 'PGH' AND status = 'committed'"
    )
    return value


async def build_index(conn: asyncpg.Connection) -> PghIndex:
    """Stream the PGH people out of PostgreSQL into the compact in-memory index."""
    records: list[PersonRecord] = []
    async with conn.transaction():
        cursor = conn.cursor(
            """
            SELECT pgh_key, doc_type, doc_number, nombres, apellido_paterno, apellido_materno,
                   birth_on, sex, ubigeo
            FROM person WHERE in_pgh ORDER BY id
            """,
            prefetch=20_000,
        )
        async for r in cursor:
            records.append(
                PersonRecord(
                    key=r[0],
                    doc_type=r[1],
                    doc_number=r[2],
                    doc_trusted=True,
                    nombres=r[3],
                    apellido_paterno=r[4],
                    apellido_materno=r[5],
                    birth_date=r[6],
                    sex=r[7],
                    ubigeo=r[8],
                )
            )
    return PghIndex.build(records)


async def context_for(database_url: str, conn: asyncpg.Connection) -> MatchContext:
    """The cached context for the current PGH, rebuilt when a new PGH has been loaded."""
    version = await pgh_version(conn)
    cached = _contexts.get(database_url)
    if cached is not None and cached.pgh_version == version:
        return cached
    started = time.perf_counter()
    index = await build_index(conn)
    context = MatchContext(version, index, build_seconds=time.perf_counter() - started)
    _contexts[database_url] = context
    return context
