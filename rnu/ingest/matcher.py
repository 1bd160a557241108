"""The PGH index and fitted match model a load uses, built once per PGH version."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from rnu.ingest.rows import CanonicalRow
from rnu.matching.calibrate import fit
from rnu.matching.engine import Matcher, Thresholds
from rnu.matching.index import IndexBuilder, PghIndex
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import MatchModel

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "matching" / "default_model.json"

# Document notes that mean the sector's document cannot be taken as proof on its own.
UNTRUSTED_NOTES = frozenset({"wrong_check_char", "dni_too_short", "dni_not_numeric"})


def to_record(row: CanonicalRow, key: str) -> PersonRecord:
    """The engine's view of a row (positional arguments: this runs once per row)."""
    notes = row.doc_notes
    return PersonRecord(
        key,
        row.doc_type,
        row.doc_number,
        row.doc_number is not None and (not notes or not UNTRUSTED_NOTES.intersection(notes)),
        row.nombres or "",
        row.apellido_paterno or "",
        row.apellido_materno,
        row.birth_date,
        row.sex,
        row.ubigeo,
    )


@dataclass
class MatchContext:
    """A PGH index for one PGH version plus a model fitted on sector data against it."""

    pgh_version: int
    index: PghIndex
    matcher: Matcher | None = None
    build_seconds: float = 0.0
    fit_seconds: float = 0.0
    model_source: str = ""

    def matcher_for(self, sample: Sequence[PersonRecord]) -> Matcher:
        """The matcher, fitted on the first sample seen (m/u come from the data itself).

        A sample too small to fit on (a handful of rows) falls back to the model shipped in
        `default_model.json`, fitted the same way on a synthetic country.
        """
        if self.matcher is None:
            started = time.perf_counter()
            try:
                model, thresholds = fit(self.index, sample)
                self.model_source = "fitted"
            except ValueError:
                model, thresholds = default_model()
                self.model_source = "default"
            self.matcher = Matcher(self.index, model, thresholds)
            self.fit_seconds = time.perf_counter() - started
        return self.matcher


def default_model() -> tuple[MatchModel, Thresholds]:
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    model = MatchModel.from_json(json.dumps(data["model"]))
    return model, Thresholds(**data["thresholds"])


_contexts: dict[str, MatchContext] = {}


async def pgh_version(conn: asyncpg.Connection) -> int:
    value: int = await conn.fetchval(
        "SELECT coalesce(max(id), 0) FROM load_batch WHERE source = 'PGH' AND status = 'committed'"
    )
    return value


async def build_index(conn: asyncpg.Connection, *, chunk: int = 50_000) -> PghIndex:
    """Stream the PGH people out of PostgreSQL into the compact in-memory index.

    Rows go from the cursor to the index builder a chunk at a time: memory is the index
    (a few dozen bytes a person) plus one chunk, never a list of every person, which is
    what makes a 30M-person PGH fit on one machine.
    """
    builder = IndexBuilder()
    async with conn.transaction():
        cursor = await conn.cursor(
            """
            SELECT pgh_key, doc_type, doc_number, nombres, apellido_paterno, apellido_materno,
                   birth_on, sex, ubigeo
            FROM person WHERE in_pgh ORDER BY id
            """
        )
        while rows := await cursor.fetch(chunk):
            builder.add(
                PersonRecord(r[0], r[1], r[2], True, r[3], r[4], r[5], r[6], r[7], r[8])
                for r in rows
            )
    return builder.finish()


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
