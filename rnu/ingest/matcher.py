"""The PGH index and fitted match model a load uses, built once per PGH version."""

from __future__ import annotations

import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import numpy as np
import numpy.typing as npt

from rnu.ingest.rows import CanonicalRow
from rnu.matching.calibrate import FitError, default_model, estimate_u, fit
from rnu.matching.engine import Matcher
from rnu.matching.index import IndexBuilder, PghIndex
from rnu.matching.records import PersonRecord

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
        row.nombres,
        row.apellido_paterno,
        row.apellido_materno,
        row.birth_date,
        row.sex,
        row.ubigeo,
    )


# Rows of a load's first chunk the model is fitted on (spread over the chunk), and random
# PGH pairs u is estimated from (once per PGH version).
FIT_ROWS = 5_000
U_PAIRS = 200_000


@dataclass
class PghState:
    """What depends only on one PGH version: its index and the u probabilities."""

    version: int
    index: PghIndex
    build_seconds: float = 0.0
    _u: npt.NDArray[np.float64] | None = None

    def u(self) -> npt.NDArray[np.float64]:
        """u from random PGH pairs, estimated on first use and kept with the index."""
        if self._u is None:
            self._u = estimate_u(self.index, self.index.self_batch(), pairs=U_PAIRS, same_list=True)
        return self._u


@dataclass
class MatchContext:
    """One load's matching: the PGH index, and a model fitted on this load's own rows.

    Every load gets a context of its own (``context_for``), so the model never depends on
    which file a process happened to load first: m and the prior are fitted by EM on the
    candidate pairs of this load's first chunk, u comes from the PGH itself.
    """

    pgh_version: int
    index: PghIndex
    state: PghState | None = None
    matcher: Matcher | None = None
    build_seconds: float = 0.0
    fit_seconds: float = 0.0
    model_source: str = ""

    def matcher_for(self, sample: Sequence[PersonRecord]) -> Matcher:
        """The load's matcher, fitted on the first rows it is given.

        A sample too small to fit on (a handful of rows) falls back to the model shipped in
        `default_model.json`, fitted the same way on a synthetic country.
        """
        if self.matcher is None:
            started = time.perf_counter()
            fallback, fallback_thresholds = default_model()
            step = max(len(sample) // FIT_ROWS, 1)
            spread = list(sample[::step][:FIT_ROWS])
            try:
                u = self.state.u() if self.state is not None else None
                model, thresholds = fit(self.index, spread, u=u, fallback=fallback)
                self.model_source = "fitted"
            except FitError:
                model, thresholds = fallback, fallback_thresholds
                self.model_source = "default"
            self.matcher = Matcher(self.index, model, thresholds, complete=False)
            self.fit_seconds = time.perf_counter() - started
        return self.matcher


_states: dict[str, PghState] = {}


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
    person_ids, household_ids = array("q"), array("q")
    async with conn.transaction():
        # the ids ride along, so a load writes person and household ids without probes
        cursor = await conn.cursor(
            """
            SELECT p.pgh_key, p.doc_type, p.doc_number, p.nombres, p.apellido_paterno,
                   p.apellido_materno, p.birth_on, p.sex, p.ubigeo, p.id,
                   coalesce(m.household_id, -1)
            FROM person p LEFT JOIN household_member m ON m.person_id = p.id
            WHERE p.in_pgh ORDER BY p.id
            """
        )
        while rows := await cursor.fetch(chunk):
            builder.add(
                PersonRecord(r[0], r[1], r[2], True, r[3], r[4], r[5], r[6], r[7], r[8])
                for r in rows
            )
            person_ids.extend(r[9] for r in rows)
            household_ids.extend(r[10] for r in rows)
    index = builder.finish()
    index.person_ids = np.frombuffer(person_ids, dtype=np.int64).copy()
    index.household_ids = np.frombuffer(household_ids, dtype=np.int64).copy()
    return index


async def context_for(database_url: str, conn: asyncpg.Connection) -> MatchContext:
    """A fresh context for one load over the cached index of the current PGH.

    The index (and u) are rebuilt only when a new PGH has been loaded; the model is fitted
    anew for every context, on that load's rows.
    """
    version = await pgh_version(conn)
    state = _states.get(database_url)
    if state is None or state.version != version:
        started = time.perf_counter()
        index = await build_index(conn)
        state = PghState(version, index, build_seconds=time.perf_counter() - started)
        _states[database_url] = state
    return MatchContext(version, state.index, state, build_seconds=state.build_seconds)
