"""Load SISFOH's Padrón General de Hogares: households, people and memberships, upserted."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import asyncpg

from rnu.ingest.batch import (
    BatchResult,
    Progress,
    close_batch,
    copy_quarantine,
    load_once,
    open_batch,
    quarantine_record,
)
from rnu.ingest.rows import PghRow, Reject
from rnu.ingest.staging import chunked

SOURCE = "PGH"

_STAGING = """
CREATE TEMP TABLE stg_pgh (
  row_order int, row_number text, person_key text, household_code text, member_number int,
  ubigeo text, area text, doc_type text, doc_number text, nombres text,
  apellido_paterno text, apellido_materno text, birth_on date, sex text, relationship int,
  cse text, cse_from date, cse_to date
) ON COMMIT DROP
"""
_COLUMNS = (
    "row_order", "row_number", "person_key", "household_code", "member_number", "ubigeo",
    "area", "doc_type", "doc_number", "nombres", "apellido_paterno", "apellido_materno",
    "birth_on", "sex", "relationship", "cse", "cse_from", "cse_to",
)  # fmt: skip

_MERGE = [
    # A person key twice in one file: the first row wins, the others go to quarantine.
    """
    CREATE TEMP TABLE stg_pgh_dup ON COMMIT DROP AS
    SELECT row_order FROM (
      SELECT row_order, row_number() OVER (PARTITION BY person_key ORDER BY row_order) AS k
      FROM stg_pgh) d WHERE k > 1
    """,
    """
    INSERT INTO quarantined_row (batch_id, row_number, raw, reasons)
    SELECT $1, s.row_number, jsonb_build_object('CO_HOGAR', s.household_code,
           'NU_ORDEN', s.member_number), ARRAY['duplicate_key']
    FROM stg_pgh s JOIN stg_pgh_dup d USING (row_order)
    """,
    "DELETE FROM stg_pgh s USING stg_pgh_dup d WHERE s.row_order = d.row_order",
    # Statistics first. After a load that failed or was killed, autovacuum may have analysed
    # person and household while they held only that load's dead rows: the planner then
    # took them for empty and joined 100k rows by nested loops over sequential scans (the
    # loader-kill drill hung on the household_member insert for 10 minutes). ANALYZE inside
    # this transaction counts its own new rows.
    "ANALYZE stg_pgh",
    """
    INSERT INTO household (pgh_code, ubigeo, area, cse, cse_valid_from, cse_valid_to,
                           source_batch_id)
    SELECT DISTINCT ON (household_code) household_code, ubigeo, area, cse, cse_from, cse_to, $1
    FROM stg_pgh ORDER BY household_code, row_order
    ON CONFLICT (pgh_code) DO UPDATE SET ubigeo = EXCLUDED.ubigeo, area = EXCLUDED.area,
      cse = EXCLUDED.cse, cse_valid_from = EXCLUDED.cse_valid_from,
      cse_valid_to = EXCLUDED.cse_valid_to, source_batch_id = EXCLUDED.source_batch_id
    """,
    """
    INSERT INTO person (pgh_key, in_pgh, doc_type, doc_number, nombres, apellido_paterno,
                        apellido_materno, birth_on, sex, ubigeo)
    SELECT person_key, true, doc_type, doc_number, nombres, apellido_paterno,
           apellido_materno, birth_on, sex, ubigeo
    FROM stg_pgh
    ON CONFLICT (pgh_key) DO UPDATE SET doc_type = EXCLUDED.doc_type,
      doc_number = EXCLUDED.doc_number, nombres = EXCLUDED.nombres,
      apellido_paterno = EXCLUDED.apellido_paterno,
      apellido_materno = EXCLUDED.apellido_materno, birth_on = EXCLUDED.birth_on,
      sex = EXCLUDED.sex, ubigeo = EXCLUDED.ubigeo
    """,
    "ANALYZE person",
    "ANALYZE household",
    """
    INSERT INTO household_member (person_id, household_id, member_number, relationship)
    SELECT p.id, h.id, s.member_number, s.relationship
    FROM stg_pgh s JOIN person p ON p.pgh_key = s.person_key
    JOIN household h ON h.pgh_code = s.household_code
    ON CONFLICT (person_id) DO UPDATE SET household_id = EXCLUDED.household_id,
      member_number = EXCLUDED.member_number, relationship = EXCLUDED.relationship
    """,
]


def _staging_record(order: int, row: PghRow) -> tuple[object, ...]:
    return (
        order, row.row_number, row.person_key, row.household_code, row.member_number,
        row.ubigeo, row.area, row.doc_type if row.doc_number else None, row.doc_number,
        row.nombres,
        row.apellido_paterno, row.apellido_materno, row.birth_date, row.sex,
        row.relationship, row.cse, row.cse_from, row.cse_to,
    )  # fmt: skip


async def load_pgh(
    conn: asyncpg.Connection,
    path: Path,
    rows: Iterable[PghRow | Reject],
    *,
    period: str,
    progress: Progress | None = None,
) -> BatchResult:
    """Upsert the PGH from `rows` in one transaction; the same file twice changes nothing."""
    return await load_once(
        conn,
        path,
        source=SOURCE,
        period=period,
        body=lambda c, sha: _load(c, path, sha, rows, period=period, progress=progress),
    )


async def _load(
    conn: asyncpg.Connection,
    path: Path,
    sha: str,
    rows: Iterable[PghRow | Reject],
    *,
    period: str,
    progress: Progress | None,
) -> BatchResult:
    started = time.perf_counter()
    async with conn.transaction():
        batch_id = await open_batch(
            conn, source=SOURCE, period=period, file_name=path.name, sha256=sha
        )
        result = BatchResult(batch_id, SOURCE, period, path.name, "committed")
        await conn.execute(_STAGING)
        order = 0
        for chunk in chunked(rows):
            staged: list[tuple[object, ...]] = []
            rejects = []
            for item in chunk:
                if isinstance(item, Reject):
                    rejects.append(
                        quarantine_record(batch_id, item.row_number, item.raw, item.reasons)
                    )
                else:
                    order += 1
                    staged.append(_staging_record(order, item))
            await conn.copy_records_to_table("stg_pgh", records=staged, columns=_COLUMNS)
            await copy_quarantine(conn, rejects)
            result.rows_read += len(chunk)
            if progress:
                progress(result.rows_read)
        parsed = time.perf_counter()
        for statement in _MERGE:
            await conn.execute(statement, *((batch_id,) if "$1" in statement else ()))
        result.rows_quarantined = await conn.fetchval(
            "SELECT count(*) FROM quarantined_row WHERE batch_id = $1", batch_id
        )
        result.rows_loaded = result.rows_read - result.rows_quarantined
        result.outcomes = {"loaded": result.rows_loaded}
        result.timings = {
            "parse_and_copy": parsed - started,
            "merge": time.perf_counter() - parsed,
        }
        await close_batch(conn, result)
    return result
