"""Load one program's roll: match every row, stage it with COPY, merge it in one transaction.

Snapshot semantics: a new file for a program and period replaces that period's roll; the
earlier batch stays in the history, marked 'replaced'. The same bytes load once.

The work is pipelined chunk by chunk inside the batch's one transaction: while PostgreSQL
merges chunk k (COPY into a staging table, then set-based statements into person, roll_row,
match_review_item and enrollment), a worker thread parses and matches chunk k+1. Python and
the database thus run on separate cores instead of taking turns, and nothing the size of
the file is held in memory.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from rnu.ingest import staging
from rnu.ingest.batch import (
    BatchResult,
    Progress,
    close_batch,
    copy_quarantine,
    load_once,
    open_batch,
    quarantine_record,
)
from rnu.ingest.cpu import BackendClock
from rnu.ingest.matcher import MatchContext, context_for, pgh_version, to_record
from rnu.ingest.person_ids import person_ids
from rnu.ingest.references import ChunkReferences
from rnu.ingest.replacement import check_replacement
from rnu.ingest.rows import CanonicalRow, Reject
from rnu.ingest.stager import (
    ENROLLMENT_COLUMNS,
    PLAIN_ROW_COLUMNS,
    ROLL_ROW_COLUMNS,
    STAGED_COLUMNS,
    RowIds,
    StagedChunk,
    Stager,
)
from rnu.ingest.staging import chunked
from rnu.matching.engine import unmatched


@dataclass(frozen=True)
class ProgramFile:
    """What the pipeline needs to know about the file beyond its rows."""

    program: str
    period: str
    unit: str  # person | household
    confirm_drop: bool = False  # the sender confirmed a roll much smaller than the last


_STAGING = """
CREATE TEMP TABLE stg_chunk (
  row_order int, row_number text, outcome text, method text, weight float8,
  agreements jsonb, person_key text, candidates jsonb, doc_type text, doc_number text,
  doc_notes text[], nombres text, apellido_paterno text, apellido_materno text,
  full_name text, birth_on date, sex text, ubigeo text, household_code text, extra jsonb,
  raw jsonb, first_id bigint, person_id bigint, household_id bigint, roll_row_id bigint
) ON COMMIT DROP;
CREATE TEMP TABLE stg_held (LIKE stg_chunk) ON COMMIT DROP;
"""
_CONTENT = (
    "doc_type, doc_number, full_name, nombres, apellido_paterno, apellido_materno, birth_on, "
    "sex, ubigeo, household_code, extra"
)

# $1 batch id, $2 program code, $3 period.
# Snapshot first: this file is now the period's roll (the same transaction commits both).
_BEGIN = [
    """
    UPDATE load_batch SET status = 'replaced', replaced_by_id = $1
    WHERE source = $2 AND period = $3 AND status = 'committed' AND id <> $1
    """,
    "DELETE FROM enrollment WHERE program_code = $2 AND period = $3 AND batch_id <> $1",
]

# Run on each chunk, in file order; {t} is the staging table. Order matters: each step
# reads the one before, and a chunk sees what earlier chunks wrote (a document's person
# created by an earlier row is reused; an enrollment taken by an earlier row is kept).
_SET_ASIDE = [
    # A row whose content hash was seen earlier in the file may be an exact copy: it waits
    # in stg_held for the exact comparison at the end. Only first occurrences go on.
    "INSERT INTO stg_held SELECT * FROM stg_chunk WHERE raw IS NOT NULL",
    "DELETE FROM stg_chunk WHERE raw IS NOT NULL",
]
_MERGE = [
    # Unmatched rows become people "not in the PGH": one per document, reused across files.
    """
    INSERT INTO person (in_pgh, doc_type, doc_number, nombres, apellido_paterno,
                        apellido_materno, birth_on, sex, ubigeo)
    SELECT DISTINCT ON (doc_type, doc_number) false, doc_type, doc_number,
           coalesce(nombres, ''), coalesce(apellido_paterno, ''), apellido_materno,
           birth_on, sex, ubigeo
    FROM {t} s
    WHERE outcome = 'unmatched' AND doc_type IS NOT NULL AND doc_number IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM person p WHERE NOT p.in_pgh
                      AND p.doc_type = s.doc_type AND p.doc_number = s.doc_number)
    ORDER BY doc_type, doc_number, row_order
    """,
    """
    UPDATE {t} s SET person_id = (  -- correlated, as below
      SELECT min(p.id) FROM person p
      WHERE p.doc_number = s.doc_number AND p.doc_type = s.doc_type AND NOT p.in_pgh)
    WHERE s.outcome = 'unmatched' AND s.person_id IS NULL
      AND s.doc_type IS NOT NULL AND s.doc_number IS NOT NULL
    """,
    # Without a document there is nothing to reuse: a new person per row, ids drawn first.
    """
    UPDATE {t} SET person_id = nextval(pg_get_serial_sequence('person', 'id'))
    WHERE outcome = 'unmatched' AND person_id IS NULL
    """,
    """
    INSERT INTO person (id, in_pgh, nombres, apellido_paterno, apellido_materno, birth_on,
                        sex, ubigeo)
    SELECT person_id, false, coalesce(nombres, ''), coalesce(apellido_paterno, ''),
           apellido_materno, birth_on, sex, ubigeo
    FROM {t} s
    WHERE outcome = 'unmatched' AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = s.person_id)
    """,
    # The rows, their review items and their enrollments in one statement (ids drawn in
    # file order, rnu.ingest.stager). A linked row's
    # person and household come staged, read from the matching index (rnu.ingest.person_ids);
    # only what it could not give (an index without ids, the unmatched rows' households) is
    # looked up here, as correlated subqueries: one index probe per row, a plan that cannot
    # go wrong (as joins, the planner works from person's statistics, which do not count
    # the people this transaction added, and once chose nested loops over a million rows).
    # One enrollment per person: a second row for the same person stays in roll_row, where
    # the integrity checks find it (duplicate_in_program); the first row in file order
    # keeps it.
    """
    WITH src AS (
      SELECT s.*, coalesce(s.person_id,
                           (SELECT p.id FROM person p WHERE p.pgh_key = s.person_key)) AS pid
      FROM {t} s
    ), ins AS (
      INSERT INTO roll_row (id, batch_id, row_number, person_id, household_id, outcome,
        method, weight, agreements, doc_type, doc_number, doc_notes, nombres,
        apellido_paterno, apellido_materno, full_name, birth_on, sex, ubigeo, household_code,
        extra)
      SELECT roll_row_id, $1, row_number, pid,
        CASE WHEN src.outcome <> 'unmatched' AND src.person_id IS NOT NULL THEN src.household_id
             ELSE (SELECT m.household_id FROM household_member m WHERE m.person_id = src.pid)
        END,
        outcome, method, weight, agreements, doc_type, doc_number, doc_notes, nombres,
        apellido_paterno, apellido_materno, full_name, birth_on, sex, ubigeo, household_code,
        extra
      FROM src ORDER BY row_order
      RETURNING id, row_number, person_id, household_id, outcome, method, weight,
        agreements, ubigeo
    ), review AS (
      INSERT INTO match_review_item (roll_row_id, batch_id, candidates)
      SELECT ins.id, $1, s.candidates FROM ins JOIN {t} s USING (row_number)
      WHERE ins.outcome = 'review'
    )
    INSERT INTO enrollment (person_id, program_code, period, household_id, ubigeo, batch_id,
      roll_row_id, match_method, match_weight, match_evidence)
    SELECT DISTINCT ON (ins.person_id) ins.person_id, $2, $3, ins.household_id,
      coalesce(ins.ubigeo, (SELECT p.ubigeo FROM person p WHERE p.id = ins.person_id)), $1,
      ins.id, coalesce(ins.method, 'none'), ins.weight, ins.agreements
    FROM ins
    WHERE ins.outcome IN ('linked', 'unmatched') AND ins.person_id IS NOT NULL
    ORDER BY ins.person_id, ins.id
    ON CONFLICT (person_id, program_code, period) DO NOTHING
    """,
]
# $1 batch id. A PGH committed while this file loaded may have moved people between
# households: the ids the index gave are brought up to date (the rare path; persons'
# ids never change, a PGH load upserts them).
_REFRESH_HOUSEHOLDS = [
    """
    UPDATE roll_row r SET household_id = m.household_id FROM household_member m
    WHERE r.batch_id = $1 AND m.person_id = r.person_id
      AND r.household_id IS DISTINCT FROM m.household_id
    """,
    """
    UPDATE enrollment e SET household_id = m.household_id FROM household_member m
    WHERE e.batch_id = $1 AND m.person_id = e.person_id
      AND e.household_id IS DISTINCT FROM m.household_id
    """,
]
# After the last chunk: the held rows equal, column by column, to the first row of their
# hash (`first_id`) or to an earlier held row are exact copies (reported in quarantine,
# loaded once); the rest (a hash collision) are merged like any chunk.
_FINISH = [
    "ANALYZE stg_held",
    f"""
    CREATE TEMP TABLE stg_dup ON COMMIT DROP AS
    SELECT h.row_order FROM stg_held h
    WHERE EXISTS (
      SELECT 1 FROM roll_row r
      WHERE r.id = h.first_id AND r.batch_id = $1
        AND (r.doc_type, r.doc_number, r.full_name, r.nombres, r.apellido_paterno,
             r.apellido_materno, r.birth_on, r.sex, r.ubigeo, r.household_code, r.extra)
            IS NOT DISTINCT FROM
            (h.doc_type, h.doc_number, h.full_name, h.nombres, h.apellido_paterno,
             h.apellido_materno, h.birth_on, h.sex, h.ubigeo, h.household_code, h.extra))
    UNION ALL
    SELECT row_order FROM (
      SELECT row_order, row_number() OVER (PARTITION BY {_CONTENT} ORDER BY row_order) AS k
      FROM stg_held) d
    WHERE k > 1
    """,
    """
    INSERT INTO quarantined_row (batch_id, row_number, raw, reasons)
    SELECT $1, s.row_number, s.raw, ARRAY['duplicate_row']
    FROM stg_held s WHERE s.row_order IN (SELECT row_order FROM stg_dup)
    """,
    "DELETE FROM stg_held s WHERE s.row_order IN (SELECT row_order FROM stg_dup)",
]


async def load_program(
    conn: asyncpg.Connection,
    path: Path,
    rows: Iterable[CanonicalRow | Reject],
    spec: ProgramFile,
    *,
    index_key: str,
    progress: Progress | None = None,
) -> BatchResult:
    """Load a program file as one atomic batch; a rerun of the same bytes changes nothing.

    `index_key` names the database (its URL) for the process's cached PGH index.
    """
    return await load_once(
        conn,
        path,
        source=spec.program,
        period=spec.period,
        body=lambda c, sha: _load(c, index_key, path, sha, rows, spec, progress),
    )


# How long the worker thread may hold the GIL while the event loop waits for it (Python's
# default is 5 ms). See `_load_settings`.
SWITCH_INTERVAL = 0.001
_depth = [0]
_saved: list[tuple[tuple[int, int, int], float]] = []


@contextmanager
def _load_settings() -> Iterator[None]:
    """The interpreter settings of a batch load, restored afterwards; nested loads share them.

    * The cyclic GC off the hot path: a load allocates millions of short-lived, acyclic
      objects (rows, tuples, results); with the default thresholds the collector runs
      thousands of times and each older-generation pass walks the whole PGH index. Objects
      alive now are frozen (never scanned) and the thresholds raised.
    * The event loop takes the GIL within 1 ms, not 5: the worker thread parses and matches
      chunk k+1 (pure Python, holding the GIL) while the event loop COPYs chunk k; every
      time the socket drains, the loop waits for the worker to give the GIL up, up to a
      whole switch interval, with PostgreSQL idle meanwhile. On the 1M-row bench the COPY
      stage spent 29.6 s of wall for 13.7 s of server CPU; at 1 ms it spent 20.4 s and the
      load went from 23,164 to 28,212 rows/s (same sitting; 0.5 ms gave 27,951, 0.1 ms
      25,904 with more Python CPU for the extra switches).
    """
    _depth[0] += 1
    if _depth[0] == 1:
        _saved[:] = [(gc.get_threshold(), sys.getswitchinterval())]
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        sys.setswitchinterval(min(SWITCH_INTERVAL, _saved[0][1]))
    try:
        yield
    finally:
        _depth[0] -= 1
        if _depth[0] == 0:
            thresholds, interval = _saved[0]
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            sys.setswitchinterval(interval)


@dataclass
class _Prepared:
    """One chunk, parsed, matched and ready to COPY."""

    rows_read: int
    records: StagedChunk
    rejects: list[tuple[int, str, str, list[str]]]
    roll_row_ids: list[int]  # reserved for the chunk's rows, ascending


class _Preparer:
    """Pulls chunks from the loader, matches and stages them (runs in a worker thread)."""

    def __init__(
        self,
        rows: Iterable[CanonicalRow | Reject],
        spec: ProgramFile,
        batch_id: int,
        context: MatchContext,
        timings: dict[str, float],
    ) -> None:
        self.size = staging.CHUNK_ROWS
        self.chunks = chunked(rows, self.size)
        self.batch_id = batch_id
        self.context = context
        self.timings = timings
        self.stager = Stager(batch_id, spec.program, spec.period)
        self.ids = RowIds()  # topped up by the event loop before each call

    def __call__(self) -> _Prepared | None:
        timings = self.timings
        started, cpu = time.perf_counter(), time.thread_time()
        chunk = next(self.chunks, None)
        if chunk is None:
            return None
        canonical = [r for r in chunk if type(r) is CanonicalRow]
        rejects = [
            quarantine_record(self.batch_id, r.row_number, r.raw, r.reasons)
            for r in chunk
            if isinstance(r, Reject)
        ]
        parsed, cpu = time.perf_counter(), self._cpu("parse", cpu)
        timings["parse"] += parsed - started
        records = [to_record(r, r.row_number) for r in canonical]
        context = self.context
        results = (
            context.matcher_for(records).match_many(records)
            if records and len(context.index)
            else [unmatched() for _ in records]
        )
        matched, cpu = time.perf_counter(), self._cpu("match", cpu)
        timings["match"] += matched - parsed
        roll_row_ids = self.ids.take(len(canonical))
        staged = self.stager.records(canonical, results, person_ids(context.index), roll_row_ids)
        timings["stage"] += time.perf_counter() - matched
        self._cpu("stage", cpu)
        return _Prepared(len(chunk), staged, rejects, roll_row_ids)

    def _cpu(self, stage: str, since: float) -> float:
        """Add this thread's CPU since `since` to the stage; the new mark."""
        now = time.thread_time()
        key = f"Python CPU {stage}"
        self.timings[key] = self.timings.get(key, 0.0) + now - since
        return now


async def _run(
    conn: asyncpg.Connection, statements: Sequence[str], params: tuple[Any, ...]
) -> None:
    for statement in statements:
        used = max((n for n in (1, 2, 3) if f"${n}" in statement), default=0)
        await conn.execute(statement, *params[:used])


async def _load(
    conn: asyncpg.Connection,
    index_key: str,
    path: Path,
    sha: str,
    rows: Iterable[CanonicalRow | Reject],
    spec: ProgramFile,
    progress: Progress | None,
) -> BatchResult:
    timings = dict.fromkeys(("parse", "match", "stage", "copy", "merge"), 0.0)
    context = await context_for(index_key, conn)
    fitted_before = context.matcher is not None
    with _load_settings():
        async with conn.transaction():
            batch_id = await open_batch(
                conn, source=spec.program, period=spec.period, file_name=path.name, sha256=sha
            )
            result = BatchResult(batch_id, spec.program, spec.period, path.name, "committed")
            params = (batch_id, spec.program, spec.period)
            # each chunk's sorts (row order, one enrollment per person) fit in memory
            await conn.execute("SET LOCAL work_mem = '64MB'")
            # Each chunk's statements are short: JIT compiled 53 functions per chunk and
            # won nothing back (EXPLAIN ANALYZE of the merge, issue 15).
            await conn.execute("SET LOCAL jit = off")
            await conn.execute(_STAGING)
            await _run(conn, _BEGIN, params)
            chunk_merge = [statement.format(t="stg_chunk") for statement in _MERGE]

            backend = BackendClock(conn, timings)
            references = ChunkReferences(batch_id, spec.program, spec.period)

            async def push(ready: _Prepared) -> None:
                started = time.perf_counter()
                backend.start()
                records = ready.records
                await conn.execute("TRUNCATE stg_chunk")
                for table, batch, columns in (
                    ("stg_chunk", records.staged, STAGED_COLUMNS),
                    # linked rows with their ids: final already
                    ("roll_row", records.plain_rows, PLAIN_ROW_COLUMNS),
                    ("roll_row", records.rows, ROLL_ROW_COLUMNS),
                    ("enrollment", records.enrollments, ENROLLMENT_COLUMNS),
                ):
                    if batch:
                        await conn.copy_records_to_table(table, records=batch, columns=columns)
                await copy_quarantine(conn, ready.rejects)
                copied = time.perf_counter()
                timings["copy"] += copied - started
                backend.stop("copy")
                await _run(conn, _SET_ASIDE, params)
                await _run(conn, chunk_merge, params)
                # while Python prepares the next chunk
                await references.check(conn, ready.roll_row_ids)
                timings["merge"] += time.perf_counter() - copied
                backend.stop("merge")
                result.rows_read += ready.rows_read
                if progress:
                    progress(result.rows_read)

            prepare = _Preparer(rows, spec, batch_id, context, timings)
            await prepare.ids.reserve(conn, prepare.size)
            ready = await asyncio.to_thread(prepare)
            while ready is not None:
                await prepare.ids.reserve(conn, prepare.size)
                # the next chunk is parsed and matched while PostgreSQL merges this one
                done = await asyncio.gather(
                    asyncio.to_thread(prepare), push(ready), return_exceptions=True
                )
                for outcome in done:
                    if isinstance(outcome, BaseException):
                        raise outcome
                ready = done[0]  # type: ignore[assignment]  # checked above

            started = time.perf_counter()
            backend.start()
            await _run(conn, _FINISH, params)
            held = await conn.fetchval("SELECT count(*) FROM stg_held")
            if held:
                await _run(conn, [statement.format(t="stg_held") for statement in _MERGE], params)
                held_ids = await conn.fetchval("SELECT array_agg(roll_row_id) FROM stg_held")
                await references.check(conn, sorted(held_ids or []))
            if await pgh_version(conn) != context.pgh_version:
                await _run(conn, _REFRESH_HOUSEHOLDS, params)
            outcome_rows = await conn.fetch(
                "SELECT outcome, count(*) AS n FROM roll_row WHERE batch_id = $1 GROUP BY outcome",
                batch_id,
            )
            result.outcomes = {r["outcome"]: r["n"] for r in outcome_rows}
            result.rows_quarantined = await conn.fetchval(
                "SELECT count(*) FROM quarantined_row WHERE batch_id = $1", batch_id
            )
            result.rows_loaded = sum(result.outcomes.values())
            result.outcomes["quarantined"] = result.rows_quarantined
            result.outcomes["enrolled"] = await conn.fetchval(
                "SELECT count(*) FROM enrollment WHERE batch_id = $1", batch_id
            )
            result.replaced_batch_id = await conn.fetchval(
                "SELECT max(id) FROM load_batch WHERE replaced_by_id = $1", batch_id
            )
            await references.finish(conn, result.outcomes["enrolled"])
            await check_replacement(
                conn,
                batch_id=batch_id,
                program=spec.program,
                period=spec.period,
                enrolled=result.outcomes["enrolled"],
                confirmed=spec.confirm_drop,
            )
            timings["finish"] = time.perf_counter() - started
            backend.stop("finish")
            result.timings = timings
            if context.fit_seconds and not fitted_before:
                result.timings["fit"] = context.fit_seconds
            await close_batch(conn, result)
            if context.matcher is not None:  # flags near this weight are "por verificar"
                await conn.execute(
                    "UPDATE load_batch SET link_threshold = $2 WHERE id = $1",
                    batch_id,
                    context.matcher.thresholds.upper,
                )
            commit_started = time.perf_counter()
        timings["commit"] = time.perf_counter() - commit_started
    return result
