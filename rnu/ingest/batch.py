"""Batch bookkeeping shared by every kind of load: identity by sha256, counts, quarantine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from rnu.errors import RnuError
from rnu.registry_state import bump_data_version

Progress = Callable[[int], None]


def file_sha256(path: Path) -> str:
    """Hash in 1 MiB chunks: a 5M-row file must not be read into memory to be identified."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class BatchResult:
    """What one load did; `status` is 'committed' or 'already_loaded'."""

    batch_id: int
    source: str
    period: str
    file_name: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    replaced_batch_id: int | None = None


async def find_committed(
    conn: asyncpg.Connection, *, source: str, period: str, sha256: str
) -> int | None:
    """The batch that already loaded these exact bytes for this source and period, if any."""
    value: int | None = await conn.fetchval(
        """
        SELECT id FROM load_batch
        WHERE source = $1 AND period = $2 AND sha256 = $3 AND status IN ('committed', 'replaced')
        """,
        source,
        period,
        sha256,
    )
    return value


async def open_batch(
    conn: asyncpg.Connection, *, source: str, period: str, file_name: str, sha256: str
) -> int:
    """Insert the batch row inside the load's transaction: a crash leaves no trace of it.

    A failed attempt recorded earlier for the same bytes is removed so the rerun can take
    the (source, period, sha256) identity.
    """
    await conn.execute(
        "DELETE FROM load_batch WHERE source = $1 AND period = $2 AND sha256 = $3 "
        "AND status = 'failed'",
        source,
        period,
        sha256,
    )
    batch_id: int = await conn.fetchval(
        """
        INSERT INTO load_batch (source, period, file_name, sha256, status)
        VALUES ($1, $2, $3, $4, 'loading') RETURNING id
        """,
        source,
        period,
        file_name,
        sha256,
    )
    return batch_id


async def close_batch(conn: asyncpg.Connection, result: BatchResult) -> None:
    """Write the final counts; the table's check refuses counts that do not add up."""
    await conn.execute(
        """
        UPDATE load_batch SET status = 'committed', rows_read = $2, rows_loaded = $3,
          rows_quarantined = $4, outcomes = $5::jsonb, timings = $6::jsonb, finished_at = now()
        WHERE id = $1
        """,
        result.batch_id,
        result.rows_read,
        result.rows_loaded,
        result.rows_quarantined,
        json.dumps(result.outcomes),
        json.dumps({k: round(v, 3) for k, v in result.timings.items()}),
    )
    await bump_data_version(conn)


async def record_failure(
    conn: asyncpg.Connection,
    *,
    source: str,
    period: str,
    file_name: str,
    sha256: str,
    error: str,
) -> None:
    """Keep a failed attempt in the history (its own transaction, after the load's rollback)."""
    await conn.execute(
        """
        INSERT INTO load_batch (source, period, file_name, sha256, status, error, finished_at)
        VALUES ($1, $2, $3, $4, 'failed', $5, now())
        ON CONFLICT (source, period, sha256) DO UPDATE SET error = EXCLUDED.error,
          finished_at = now()
        WHERE load_batch.status = 'failed'
        """,
        source,
        period,
        file_name,
        sha256,
        error[:2000],
    )


QUARANTINE_COLUMNS = ("batch_id", "row_number", "raw", "reasons")


def quarantine_record(
    batch_id: int, row_number: str, raw: dict[str, Any] | str, reasons: Sequence[str]
) -> tuple[int, str, str, list[str]]:
    payload = raw if isinstance(raw, dict) else {"linea": raw}
    return (batch_id, row_number, json.dumps(payload, ensure_ascii=False), list(reasons))


async def copy_quarantine(
    conn: asyncpg.Connection, records: Sequence[tuple[int, str, str, list[str]]]
) -> None:
    if records:
        await conn.copy_records_to_table(
            "quarantined_row", records=records, columns=QUARANTINE_COLUMNS
        )


LoadBody = Callable[[asyncpg.Connection, str], Awaitable[BatchResult]]


async def load_once(
    conn: asyncpg.Connection, path: Path, *, source: str, period: str, body: LoadBody
) -> BatchResult:
    """Run `body(conn, sha256)` unless these bytes are already loaded; record a failure.

    The identity check and the failure record are the same for every kind of file; `body`
    holds the one transaction that differs. Everything runs on the caller's connection.
    """
    sha = file_sha256(path)
    existing = await find_committed(conn, source=source, period=period, sha256=sha)
    if existing is not None:
        return BatchResult(existing, source, period, path.name, "already_loaded")
    try:
        return await body(conn, sha)
    except (asyncpg.PostgresError, ValueError, RnuError) as exc:
        if not conn.is_closed() and not conn.is_in_transaction():
            await record_failure(
                conn,
                source=source,
                period=period,
                file_name=path.name,
                sha256=sha,
                error=f"{type(exc).__name__}: {exc}",
            )
        raise
