"""Load RENIEC's deaths file: keep every record and mark the people it names as deceased."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import asyncpg

from rnu.agency.events import schedule_deaths
from rnu.ingest.batch import (
    BatchResult,
    Progress,
    close_batch,
    copy_quarantine,
    load_once,
    open_batch,
    quarantine_record,
)
from rnu.ingest.rows import DeathRow, Reject
from rnu.ingest.staging import chunked

SOURCE = "DEATHS"


async def load_deaths(
    conn: asyncpg.Connection,
    path: Path,
    rows: Iterable[DeathRow | Reject],
    *,
    period: str,
    progress: Progress | None = None,
) -> BatchResult:
    """Record the deaths and set `person.death_on` for every DNI holder, in one transaction."""
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
    rows: Iterable[DeathRow | Reject],
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
        for chunk in chunked(rows):
            deaths = [
                (batch_id, r.row_number, r.dni, r.death_date)
                for r in chunk
                if isinstance(r, DeathRow)
            ]
            rejects = [
                quarantine_record(batch_id, r.row_number, r.raw, r.reasons)
                for r in chunk
                if isinstance(r, Reject)
            ]
            await conn.copy_records_to_table(
                "death_record",
                records=deaths,
                columns=("batch_id", "row_number", "dni", "death_on"),
            )
            await copy_quarantine(conn, rejects)
            result.rows_read += len(chunk)
            result.rows_quarantined += len(rejects)
            if progress:
                progress(result.rows_read)
        # CUIs share the DNI number system, so a child's CUI is matched the same way.
        matched = await conn.fetchval(
            """
            WITH upd AS (
              UPDATE person p SET death_on = d.death_on
              FROM death_record d
              WHERE d.batch_id = $1 AND p.doc_type IN ('DNI', 'CUI') AND p.doc_number = d.dni
              RETURNING p.id)
            SELECT count(*) FROM upd
            """,
            batch_id,
        )
        # Subscribed programmes hear of the deaths: deliveries and their jobs commit with the
        # batch or not at all (transactional outbox; rnu/agency/events.py).
        notices = await schedule_deaths(conn, batch_id=batch_id)
        result.rows_loaded = result.rows_read - result.rows_quarantined
        result.outcomes = {
            "loaded": result.rows_loaded,
            "people_marked": matched,
            "notices": notices,
        }
        result.timings = {"total": time.perf_counter() - started}
        await close_batch(conn, result)
    return result
