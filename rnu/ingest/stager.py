"""Matched rows turned into COPY records: straight into roll_row and enrollment, or staged.

Most rows of a program file are linked to a PGH person whose person and household ids the
matching index already gives (`rnu.ingest.person_ids`). Such a row needs nothing from the
database: it is COPYed straight into roll_row, and its enrollment (the person's first row
in the file) straight into enrollment. Merging them through a staging table cost 1.96× a
COPY of the same final rows (bench/load_speed.py, issue 15). Only the rows that need SQL
go through the staging table and the merge: unmatched rows (their "not in the PGH" person
is created or reused there), rows in review (a review item), rows that may be exact
copies of an earlier row (compared column by column at the end), and linked rows missing
an id or a place.

roll_row ids are drawn from the table's sequence ahead of each chunk (`RowIds`), in file
order, for staged and direct rows alike: ids keep following the file, as when a single
INSERT … ORDER BY gave them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from rnu.ingest.person_ids import PersonIds
from rnu.ingest.rows import CanonicalRow
from rnu.matching.engine import MatchResult

# The staging table's columns (rnu.ingest.program creates it with these, in this order).
STAGED_COLUMNS = (
    "row_order", "row_number", "outcome", "method", "weight", "agreements", "person_key",
    "candidates", "doc_type", "doc_number", "doc_notes", "nombres", "apellido_paterno",
    "apellido_materno", "full_name", "birth_on", "sex", "ubigeo", "household_code", "extra",
    "raw", "first_id", "person_id", "household_id", "roll_row_id",
)  # fmt: skip
ROLL_ROW_COLUMNS = (
    "id", "batch_id", "row_number", "person_id", "household_id", "outcome", "method",
    "weight", "agreements", "doc_type", "doc_number", "doc_notes", "nombres",
    "apellido_paterno", "apellido_materno", "full_name", "birth_on", "sex", "ubigeo",
    "household_code", "extra",
)  # fmt: skip
# The same without doc_notes and household_code, for the rows that have neither (nearly all):
# the columns' defaults ('{}', NULL) fill them, and encoding an empty array was half of
# the COPY's client CPU (2.1 -> 1.0 µs a row).
PLAIN_ROW_COLUMNS = tuple(c for c in ROLL_ROW_COLUMNS if c not in ("doc_notes", "household_code"))
ENROLLMENT_COLUMNS = (
    "person_id", "program_code", "period", "household_id", "ubigeo", "batch_id",
    "roll_row_id", "match_method", "match_weight", "match_evidence",
)  # fmt: skip

_RESERVE = """
SELECT array_agg(nextval(pg_get_serial_sequence('roll_row', 'id')))
FROM generate_series(1, $1)
"""


class RowIds:
    """roll_row ids reserved from the sequence, handed out in file order.

    The event loop tops the pool up (`reserve`) before each chunk is prepared, so the
    worker thread that builds the records never waits on the database. Ids left over at
    the end are gaps in the sequence, as a rolled-back insert leaves.
    """

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._next = 0

    async def reserve(self, conn: asyncpg.Connection, at_least: int) -> None:
        """Make sure `at_least` ids are ready for the next chunk."""
        ready = len(self._ids) - self._next
        if ready >= at_least:
            return
        drawn: list[int] = sorted(await conn.fetchval(_RESERVE, at_least - ready))
        self._ids = self._ids[self._next :] + drawn
        self._next = 0

    def take(self, n: int) -> list[int]:
        """The next `n` ids; the pool was topped up for the chunk beforehand."""
        start, end = self._next, self._next + n
        if end > len(self._ids):
            raise RuntimeError(f"{n} roll_row ids asked for, {len(self._ids) - start} reserved")
        self._next = end
        return self._ids[start:end]


@dataclass
class StagedChunk:
    """One chunk's COPY records: staged for the merge, or final rows and enrollments."""

    staged: list[tuple[Any, ...]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # ROLL_ROW_COLUMNS
    plain_rows: list[tuple[Any, ...]] = field(default_factory=list)  # PLAIN_ROW_COLUMNS
    enrollments: list[tuple[Any, ...]] = field(default_factory=list)


def _candidates(result: MatchResult) -> str:
    return json.dumps(
        [
            {"person_key": c.key, "weight": round(c.weight, 2), "agreements": c.agreements}
            for c in result.candidates
        ]
    )


def content_hash(row: CanonicalRow, extra_id: int) -> int:
    """Identity of a row's content (not its position), to find exact copies in one file.

    A 64-bit hash may collide: rows are only called copies after an exact comparison in
    SQL, so a collision costs a little time, never a row.
    """
    return hash(
        (
            row.doc_type, row.doc_number, row.full_name, row.nombres, row.apellido_paterno,
            row.apellido_materno, row.birth_date, row.sex, row.ubigeo, row.household_code,
            extra_id,
        )
    )  # fmt: skip


class Stager:
    """Turns matched rows into COPY records, with the per-row cost kept small.

    A million-row file repeats a few hundred agreement sets and a few thousand `extra`
    dicts, so their JSON is built once. The row's `raw` is only needed when the row turns
    out to be an exact copy of an earlier one (it then goes to quarantine as read), so it
    is serialised only for rows whose content hash was seen before in this file; such a
    row is staged with the id of the first row of that hash, which the end of the load
    compares it with. Two ints per row are remembered (hash → first id, about 100 MB per
    million rows), and the PGH people enrolled so far (a person's first row in the file
    keeps the enrollment), never the rows themselves.
    """

    _LIMIT = 100_000

    def __init__(self, batch_id: int, program: str, period: str) -> None:
        self.batch_id, self.program, self.period = batch_id, program, period
        self.order = 0
        self.first_ids: dict[int, int] = {}
        self.enrolled: set[int] = set()
        # agreements are shared dicts (MatchResult): keyed by identity, kept alive here
        self.agreements: dict[int, tuple[dict[str, str], str]] = {}
        self.extras: dict[tuple[tuple[str, str], ...], tuple[str, int]] = {}

    def records(
        self,
        rows: Sequence[CanonicalRow],
        results: Sequence[MatchResult],
        ids: PersonIds | None,
        roll_row_ids: Sequence[int],
    ) -> StagedChunk:
        """The chunk's records; with `ids`, linked and review rows carry their person's ids."""
        person_ids: list[int | None] = [None] * len(results)
        household_ids: list[int | None] = [None] * len(results)
        if ids is not None and ids.available:
            found = ids.lookup(
                [r.person_key if r.outcome != "unmatched" else None for r in results]
            )
            person_ids = [p if p >= 0 else None for p in found[0].tolist()]
            household_ids = [h if h >= 0 else None for h in found[1].tolist()]
        if len(self.agreements) > self._LIMIT:
            self.agreements.clear()
        if len(self.extras) > self._LIMIT:
            self.extras.clear()
        agreements_json, extras_json = self.agreements, self.extras
        first_ids, enrolled = self.first_ids, self.enrolled
        hash_row = content_hash  # looked up once per chunk (tests replace it)
        dumps = json.dumps
        batch_id, program, period = self.batch_id, self.program, self.period
        out = StagedChunk()
        staged, direct, plain, enrollments = out.staged, out.rows, out.plain_rows, out.enrollments
        order = self.order
        for row, result, person_id, household_id, roll_row_id in zip(
            rows, results, person_ids, household_ids, roll_row_ids, strict=True
        ):
            order += 1
            agreements = result.agreements
            cached = agreements_json.get(id(agreements))
            if cached is None:
                cached = agreements_json[id(agreements)] = (agreements, dumps(agreements))
            extra = row.extra
            try:
                extra_key = tuple(extra.items())
                known = extras_json.get(extra_key)
                if known is None:  # its JSON, and a hash that does not depend on key order
                    known = extras_json[extra_key] = (
                        dumps(extra, ensure_ascii=False),
                        hash(frozenset(extra_key)),
                    )
                extra_json, extra_id = known
            except TypeError:  # a loader kept a list or dict as evidence: not hashable
                extra_json = dumps(extra, ensure_ascii=False, sort_keys=True)
                extra_id = hash(extra_json)
            row_hash = hash_row(row, extra_id)
            first_id = first_ids.setdefault(row_hash, roll_row_id)
            outcome = result.outcome
            weight = round(result.weight, 3)
            first_enrollment = False
            if outcome == "linked" and person_id is not None:
                # Counted whichever way the row goes: an enrollment taken by a staged row
                # (or a held one, whose exact copy took it) is not COPYed again.
                first_enrollment = person_id not in enrolled
                enrolled.add(person_id)
            if first_id == roll_row_id and person_id is not None and row.ubigeo is not None:
                if outcome == "linked":
                    if row.doc_notes or row.household_code is not None:
                        direct.append(
                            (
                                roll_row_id, batch_id, row.row_number, person_id, household_id,
                                outcome, result.method, weight, cached[1], row.doc_type,
                                row.doc_number, list(row.doc_notes), row.nombres,
                                row.apellido_paterno, row.apellido_materno, row.full_name,
                                row.birth_date, row.sex, row.ubigeo, row.household_code,
                                extra_json,
                            )
                        )  # fmt: skip
                    else:
                        plain.append(
                            (
                                roll_row_id, batch_id, row.row_number, person_id, household_id,
                                outcome, result.method, weight, cached[1], row.doc_type,
                                row.doc_number, row.nombres, row.apellido_paterno,
                                row.apellido_materno, row.full_name, row.birth_date, row.sex,
                                row.ubigeo, extra_json,
                            )
                        )  # fmt: skip
                    if first_enrollment:
                        enrollments.append(
                            (
                                person_id, program, period, household_id, row.ubigeo,
                                batch_id, roll_row_id, result.method or "none", weight,
                                cached[1],
                            )
                        )  # fmt: skip
                    continue
            held = first_id != roll_row_id
            staged.append(
                (
                    order, row.row_number, outcome, result.method, weight, cached[1],
                    result.person_key,
                    _candidates(result) if outcome == "review" else "[]",
                    row.doc_type, row.doc_number, list(row.doc_notes), row.nombres,
                    row.apellido_paterno, row.apellido_materno, row.full_name,
                    row.birth_date, row.sex, row.ubigeo, row.household_code, extra_json,
                    dumps(row.raw, ensure_ascii=False) if held else None,
                    first_id if held else None, person_id, household_id, roll_row_id,
                )
            )  # fmt: skip
        self.order = order
        return out
