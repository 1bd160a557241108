"""Load one program's roll: match every row, stage it with COPY, merge it in one transaction.

Snapshot semantics: a new file for a program and period replaces that period's roll; the
earlier batch stays in the history, marked 'replaced'. The same bytes load once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from rnu.db import connect_raw
from rnu.errors import RnuError
from rnu.ingest.batch import (
    BatchResult,
    Progress,
    close_batch,
    copy_quarantine,
    file_sha256,
    find_committed,
    open_batch,
    quarantine_record,
    record_failure,
)
from rnu.ingest.matcher import context_for, to_record
from rnu.ingest.rows import CanonicalRow, Reject
from rnu.ingest.staging import chunked
from rnu.matching.engine import MatchResult


@dataclass(frozen=True)
class ProgramFile:
    """What the pipeline needs to know about the file beyond its rows."""

    program: str
    period: str
    unit: str  # person | household


_STAGING = """
CREATE TEMP TABLE stg_roll (
  row_order int, row_number text, outcome text, method text, weight float8,
  agreements jsonb, person_key text, candidates jsonb, doc_type text, doc_number text,
  doc_notes text[], nombres text, apellido_paterno text, apellido_materno text,
  full_name text, birth_on date, sex text, ubigeo text, household_code text, extra jsonb,
  raw jsonb, row_hash text, person_id bigint, household_id bigint
) ON COMMIT DROP
"""
_COLUMNS = (
    "row_order", "row_number", "outcome", "method", "weight", "agreements", "person_key",
    "candidates", "doc_type", "doc_number", "doc_notes", "nombres", "apellido_paterno",
    "apellido_materno", "full_name", "birth_on", "sex", "ubigeo", "household_code", "extra",
    "raw", "row_hash",
)  # fmt: skip

# $1 batch id, $2 program code, $3 period. Order matters: each step reads the one before.
_MERGE = [
    # Exact copies of a row already in this file: reported in quarantine, loaded once.
    """
    CREATE TEMP TABLE stg_dup ON COMMIT DROP AS
    SELECT row_order FROM (
      SELECT row_order, row_number() OVER (PARTITION BY row_hash ORDER BY row_order) AS k
      FROM stg_roll) d WHERE k > 1
    """,
    """
    INSERT INTO quarantined_row (batch_id, row_number, raw, reasons)
    SELECT $1, s.row_number, s.raw, ARRAY['duplicate_row']
    FROM stg_roll s JOIN stg_dup d USING (row_order)
    """,
    "DELETE FROM stg_roll s USING stg_dup d WHERE s.row_order = d.row_order",
    "UPDATE stg_roll s SET person_id = p.id FROM person p WHERE p.pgh_key = s.person_key",
    # Unmatched rows become people "not in the PGH": one per document, reused across files.
    """
    INSERT INTO person (in_pgh, doc_type, doc_number, nombres, apellido_paterno,
                        apellido_materno, birth_on, sex, ubigeo)
    SELECT DISTINCT ON (doc_type, doc_number) false, doc_type, doc_number,
           coalesce(nombres, ''), coalesce(apellido_paterno, ''), apellido_materno,
           birth_on, sex, ubigeo
    FROM stg_roll s
    WHERE outcome = 'unmatched' AND doc_type IS NOT NULL AND doc_number IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM person p WHERE NOT p.in_pgh
                      AND p.doc_type = s.doc_type AND p.doc_number = s.doc_number)
    ORDER BY doc_type, doc_number, row_order
    """,
    """
    UPDATE stg_roll s SET person_id = p.id FROM person p
    WHERE s.outcome = 'unmatched' AND s.person_id IS NULL AND NOT p.in_pgh
      AND p.doc_type = s.doc_type AND p.doc_number = s.doc_number
    """,
    # Without a document there is nothing to reuse: a new person per row, ids drawn first.
    """
    UPDATE stg_roll SET person_id = nextval(pg_get_serial_sequence('person', 'id'))
    WHERE outcome = 'unmatched' AND person_id IS NULL
    """,
    """
    INSERT INTO person (id, in_pgh, nombres, apellido_paterno, apellido_materno, birth_on,
                        sex, ubigeo)
    SELECT person_id, false, coalesce(nombres, ''), coalesce(apellido_paterno, ''),
           apellido_materno, birth_on, sex, ubigeo
    FROM stg_roll s
    WHERE outcome = 'unmatched' AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = s.person_id)
    """,
    """
    UPDATE stg_roll s SET household_id = m.household_id
    FROM household_member m WHERE m.person_id = s.person_id
    """,
    """
    INSERT INTO roll_row (batch_id, row_number, person_id, household_id, outcome, method,
      weight, agreements, doc_type, doc_number, doc_notes, nombres, apellido_paterno,
      apellido_materno, full_name, birth_on, sex, ubigeo, household_code, extra)
    SELECT $1, row_number, person_id, household_id, outcome, method, weight, agreements,
      doc_type, doc_number, doc_notes, nombres, apellido_paterno, apellido_materno,
      full_name, birth_on, sex, ubigeo, household_code, extra
    FROM stg_roll ORDER BY row_order
    """,
    """
    INSERT INTO match_review_item (roll_row_id, batch_id, candidates)
    SELECT r.id, $1, s.candidates
    FROM stg_roll s JOIN roll_row r ON r.batch_id = $1 AND r.row_number = s.row_number
    WHERE s.outcome = 'review'
    """,
    # Snapshot: this file is now the period's roll.
    """
    UPDATE load_batch SET status = 'replaced', replaced_by_id = $1
    WHERE source = $2 AND period = $3 AND status = 'committed' AND id <> $1
    """,
    "DELETE FROM enrollment WHERE program_code = $2 AND period = $3 AND batch_id <> $1",
    # One enrollment per person: a second row for the same person stays in roll_row, where
    # the integrity checks find it (duplicate_in_program).
    """
    INSERT INTO enrollment (person_id, program_code, period, household_id, ubigeo, batch_id,
      roll_row_id, match_method, match_weight, match_evidence)
    SELECT DISTINCT ON (r.person_id) r.person_id, $2, $3, r.household_id,
      coalesce(r.ubigeo, p.ubigeo), $1, r.id, coalesce(r.method, 'none'), r.weight,
      r.agreements
    FROM roll_row r JOIN person p ON p.id = r.person_id
    WHERE r.batch_id = $1 AND r.outcome IN ('linked', 'unmatched')
    ORDER BY r.person_id, r.id
    """,
]


def _row_hash(row: CanonicalRow) -> str:
    """Identity of a row's content (not its position), to find exact copies in one file."""
    content = (
        row.doc_type, row.doc_number, row.full_name, row.nombres, row.apellido_paterno,
        row.apellido_materno, row.birth_date, row.sex, row.ubigeo, row.household_code,
        sorted(row.extra.items()),
    )  # fmt: skip
    return hashlib.blake2b(repr(content).encode(), digest_size=12).hexdigest()


def _candidates(result: MatchResult) -> str:
    return json.dumps(
        [
            {"person_key": c.key, "weight": round(c.weight, 2), "agreements": c.agreements}
            for c in result.candidates
        ]
    )


def _staging_record(order: int, row: CanonicalRow, result: MatchResult) -> tuple[Any, ...]:
    return (
        order, row.row_number, result.outcome, result.method, round(result.weight, 3),
        json.dumps(result.agreements), result.person_key,
        _candidates(result) if result.outcome == "review" else "[]",
        row.doc_type, row.doc_number, list(row.doc_notes), row.nombres,
        row.apellido_paterno, row.apellido_materno, row.full_name, row.birth_date, row.sex,
        row.ubigeo, row.household_code, json.dumps(row.extra, ensure_ascii=False),
        json.dumps(row.raw, ensure_ascii=False), _row_hash(row),
    )  # fmt: skip


async def load_program(
    database_url: str,
    path: Path,
    rows: Iterable[CanonicalRow | Reject],
    spec: ProgramFile,
    *,
    progress: Progress | None = None,
) -> BatchResult:
    """Load a program file as one atomic batch; a rerun of the same bytes changes nothing."""
    sha = file_sha256(path)
    conn = await connect_raw(database_url)
    try:
        existing = await find_committed(conn, source=spec.program, period=spec.period, sha256=sha)
        if existing is not None:
            return BatchResult(existing, spec.program, spec.period, path.name, "already_loaded")
        try:
            return await _load(conn, database_url, path, sha, rows, spec, progress)
        except (asyncpg.PostgresError, ValueError, RnuError) as exc:
            await record_failure(
                database_url,
                source=spec.program,
                period=spec.period,
                file_name=path.name,
                sha256=sha,
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
    finally:
        await conn.close()


async def _load(
    conn: asyncpg.Connection,
    database_url: str,
    path: Path,
    sha: str,
    rows: Iterable[CanonicalRow | Reject],
    spec: ProgramFile,
    progress: Progress | None,
) -> BatchResult:
    timings = {"parse": 0.0, "match": 0.0, "copy": 0.0}
    context = await context_for(database_url, conn)
    async with conn.transaction():
        batch_id = await open_batch(
            conn, source=spec.program, period=spec.period, file_name=path.name, sha256=sha
        )
        result = BatchResult(batch_id, spec.program, spec.period, path.name, "committed")
        await conn.execute(_STAGING)
        order = 0
        mark = time.perf_counter()
        for chunk in chunked(rows):
            canonical = [r for r in chunk if isinstance(r, CanonicalRow)]
            rejects = [
                quarantine_record(batch_id, r.row_number, r.raw, r.reasons)
                for r in chunk
                if isinstance(r, Reject)
            ]
            now = time.perf_counter()
            timings["parse"] += now - mark
            records = [to_record(r, r.row_number) for r in canonical]
            results = (
                context.matcher_for(records).match_many(records)
                if records and len(context.index)
                else [MatchResult("unmatched", None, "none", 0.0, {}, []) for _ in records]
            )
            mark = time.perf_counter()
            timings["match"] += mark - now
            staged = []
            for row, match in zip(canonical, results, strict=True):
                order += 1
                staged.append(_staging_record(order, row, match))
            await conn.copy_records_to_table("stg_roll", records=staged, columns=_COLUMNS)
            await copy_quarantine(conn, rejects)
            now = time.perf_counter()
            timings["copy"] += now - mark
            mark = now
            result.rows_read += len(chunk)
            if progress:
                progress(result.rows_read)
        params = (batch_id, spec.program, spec.period)
        for statement in _MERGE:
            used = max((n for n in (1, 2, 3) if f"${n}" in statement), default=0)
            await conn.execute(statement, *params[:used])
        timings["merge"] = time.perf_counter() - mark
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
        result.timings = timings
        if context.fit_seconds:
            result.timings["fit"] = context.fit_seconds
        await close_batch(conn, result)
    return result
