"""Load a sector's file end to end: loader → ingest → integrity → data version → notify.

Why a use case: these steps used to sit in `rnu.ingest.service`, which could reach the
loaders (a layer above it) only through an untyped entry-point lookup, while the job that
loads an agency's upload sat in `rnu.agency`, importing ingestion, which imported the
agency's events back (a four-module cycle). Here, above both, every step is an ordinary,
typed import, and one file's whole flow runs on one database connection:

1. the sector's `Loader` turns bytes into rows (`loaders.registry`, picked by file name or
   told by the operator);
2. `rnu.ingest` loads them as one atomic, idempotent batch; committing it bumps the data
   version (a deaths batch also enqueues, in its own transaction, the DEATH_REGISTERED
   notices of subscribed programmes: `rnu.agency.events`);
3. the integrity checks the batch calls for write their flags; when flags change they bump
   the data version again, in the same transaction (cached statistics would otherwise keep
   the pre-check counts).

An API upload (`run_upload`) and an operator's `rnu load` run the same `load_on`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from loaders.dci import DciEnrollmentLoader
from loaders.deaths import DeathsLoader
from loaders.pgh import PghLoader
from loaders.registry import (
    LOADERS,
    PROGRAM_LOADERS,
    detect,
    reason_message,
    sector_named,
    sector_of_program,
)
from rnu.agency import repository as agency_repository
from rnu.agency import uploads
from rnu.agency.models import AgencyUpload, ApiClient
from rnu.base import utcnow
from rnu.config import get_settings
from rnu.db import connect_raw, make_engine, make_sessionmaker, session_scope
from rnu.errors import InvalidInput
from rnu.ingest.batch import BatchResult, Progress
from rnu.ingest.deaths import load_deaths
from rnu.ingest.pgh import load_pgh
from rnu.ingest.program import ProgramFile, load_program
from rnu.ingest.quarantine import write_quarantine_csv
from rnu.ingest.rows import RollLoader
from rnu.integrity.service import check_committed_batch
from rnu.period import roll_period

# PGH first (everything links to it), then deaths (they mark people), then the programs.
ORDER = (PghLoader.sector, DeathsLoader.sector)
PROGRESS_EVERY_S = 1.0

log = logging.getLogger("rnu.loads")
RowT = TypeVar("RowT")


@dataclass(frozen=True)
class PlannedFile:
    """A file and what it is: the sector whose loader reads it and the period it holds."""

    path: Path
    sector: str
    period: str


def plan_file(path: Path, sector: str | None = None, period: str | None = None) -> PlannedFile:
    """Which sector and period a file is, from its name unless told; a clear error otherwise.

    `sector` may be a sector (`juntos`) or a program code (`JUNTOS`), in any case.
    """
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    detected = detect(path)
    if sector is None:
        if detected is None:
            raise InvalidInput(
                f"cannot tell which sector {path.name} comes from: name it "
                "(e.g. `rnu load juntos FILE`) or use the agreed file name (docs/formats.md)"
            )
        sector = detected[0]
    named = sector_named(sector)
    if named is None:
        known = ", ".join(sorted(LOADERS))
        raise InvalidInput(f"unknown sector {sector!r}; known: {known} (or a program code)")
    if period is None:
        period = detected[1] if detected and detected[0] == named else None
    yearly = LOADERS[named].yearly
    if period is None:
        form = "YYYY" if yearly else "YYYY-MM"
        raise InvalidInput(f"give the period of {path.name} with --period {form}")
    # an operator's `--period 2026-13` (or "2026" for a monthly roll) was stored as the
    # batch's period: a roll no statistic, page or rule could place
    return PlannedFile(path, named, roll_period(period, yearly=yearly))


def plan_directory(folder: Path) -> list[PlannedFile]:
    """Every file of `folder` whose name a loader recognises, PGH and deaths first."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder")
    planned = []
    for path in sorted(folder.iterdir()):
        detected = detect(path) if path.is_file() else None
        if detected and detected[1]:
            planned.append(PlannedFile(path, detected[0], detected[1]))

    def rank(p: PlannedFile) -> tuple[int, str]:
        return (ORDER.index(p.sector) if p.sector in ORDER else len(ORDER), p.path.name)

    return sorted(planned, key=rank)


def count_lines_estimate(path: Path) -> int | None:
    """A cheap total for progress bars on plain-text files (None when it cannot tell)."""
    if path.suffix.lower() not in {".csv", ".txt", ".jsonl"}:
        return None
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


async def load_file(
    database_url: str,
    planned: PlannedFile,
    *,
    progress: Progress | None = None,
    confirm_drop: bool = False,
) -> BatchResult:
    """Load one planned file as one atomic batch, then check, bump and notify.

    `confirm_drop`: replace the period's roll even with a much smaller one
    (`rnu.ingest.replacement`).
    """
    conn = await connect_raw(database_url)
    try:
        return await load_on(
            conn, planned, index_key=database_url, progress=progress, confirm_drop=confirm_drop
        )
    finally:
        await conn.close()


async def load_on(
    conn: asyncpg.Connection,
    planned: PlannedFile,
    *,
    index_key: str,
    progress: Progress | None = None,
    loader: RollLoader | None = None,
    confirm_drop: bool = False,
    max_rows: int | None = None,
) -> BatchResult:
    """The whole flow on `conn` (`index_key` names the database for the PGH index).

    `loader` overrides the sector's loader for a program roll (a DCI enrollment update);
    `max_rows` refuses a roll with more rows than that (agency uploads).
    """
    with planned.path.open("rb") as stream:
        if planned.sector == PghLoader.sector:
            rows = PghLoader(period=planned.period).rows(stream)
            # As before: a PGH's own consequences are judged by `rnu check --all`.
            return await load_pgh(
                conn, planned.path, rows, period=planned.period, progress=progress
            )
        if planned.sector == DeathsLoader.sector:
            deaths = DeathsLoader(period=planned.period).rows(stream)
            result = await load_deaths(
                conn, planned.path, deaths, period=planned.period, progress=progress
            )
        else:
            roll = loader or PROGRAM_LOADERS[planned.sector](period=planned.period)
            spec = ProgramFile(
                program=roll.program,
                period=planned.period,
                unit=roll.unit,
                confirm_drop=confirm_drop,
            )
            roll_rows = roll.rows(stream)
            if max_rows is not None:
                roll_rows = _at_most(roll_rows, max_rows)
            result = await load_program(
                conn, planned.path, roll_rows, spec, index_key=index_key, progress=progress
            )
    if result.status == "committed":
        started = time.perf_counter()
        await _check_after(conn, result.batch_id)
        result.timings["checks after commit"] = time.perf_counter() - started
    return result


def _at_most(rows: Iterator[RowT], limit: int) -> Iterator[RowT]:
    """The rows, refusing the whole file (the load rolls back) past `limit` rows."""
    for n, row in enumerate(rows, start=1):
        if n > limit:
            raise InvalidInput(
                f"the file has more than {limit:,} rows, the limit for one upload; split it"
            )
        yield row


async def _check_after(conn: asyncpg.Connection, batch_id: int) -> None:
    """Run the integrity checks the batch calls for; the batch stays loaded if they fail.

    A failure is logged (no personal data) and `rnu check --all` repairs it later.
    """
    try:
        await check_committed_batch(conn, batch_id)
    except (asyncpg.PostgresError, OSError, LookupError, ValueError):
        log.exception("integrity checks after batch %s failed", batch_id)


async def write_quarantine(database_url: str, batch_id: int, path: Path) -> int:
    """A batch's quarantined rows as CSV, with the loaders' Spanish reasons."""
    return await write_quarantine_csv(database_url, batch_id, path, message=reason_message)


# ---------------------------------------------------------------------------------------------
# Agency uploads: accepted by the API, loaded by the worker through the same flow.


def sector_for_upload(program_code: str) -> str:
    """The sector whose loader reads this program's rolls; InvalidInput when there is none."""
    sector = sector_of_program(program_code)
    if sector is None:
        raise InvalidInput(f"no loader reads rolls of program {program_code!r}")
    return sector


async def accept_upload(
    session: AsyncSession,
    *,
    client: ApiClient,
    program_code: str,
    period: str,
    file_name: str,
    stored_path: Path,
    size_bytes: int,
    channel: str = "cargas",
    confirm_drop: bool = False,
) -> AgencyUpload:
    """Record an agency's roll and enqueue its load, in the caller's transaction."""
    return await uploads.create(
        session,
        client=client,
        program_code=program_code,
        period=period,
        file_name=file_name,
        stored_path=stored_path,
        size_bytes=size_bytes,
        sector=sector_for_upload(program_code),
        channel=channel,
        confirm_drop=confirm_drop,
    )


@dataclass(frozen=True)
class UploadOutcome:
    """What a run of an upload's job did (the worker prints it)."""

    upload_id: int
    status: str  # done | failed | skipped (already finished, or gone)
    result: BatchResult | None = None
    error: str | None = None


async def run_upload(
    database_url: str, upload_id: int, *, confirm_drop: bool = False
) -> UploadOutcome:
    """Load an upload's file (the worker's job); progress and outcome go on its row.

    Two connections: the load's own, and one that writes progress while the load's
    transaction is open (its rows are invisible until it commits).
    """
    engine = make_engine(database_url, pool_size=2, role="worker")
    maker = make_sessionmaker(engine)
    try:
        async with session_scope(maker) as session:
            upload = await agency_repository.get_upload(session, upload_id=upload_id)
            if upload is None or upload.status in ("done", "failed"):
                return UploadOutcome(upload_id, "skipped")
            await agency_repository.set_upload(session, upload_id=upload_id, status="running")
        reporter = _Reporter(maker, upload_id)
        try:
            conn = await connect_raw(database_url)
            try:
                result = await load_on(
                    conn,
                    PlannedFile(Path(upload.stored_path), upload.sector, upload.period),
                    index_key=database_url,
                    progress=reporter.progress,
                    loader=_upload_loader(upload),
                    confirm_drop=confirm_drop,
                    max_rows=get_settings().upload_max_rows,
                )
            finally:
                await conn.close()
        except Exception as exc:  # the job must record any failure on the upload row
            log.exception("upload %s failed", upload_id)
            await reporter.stop()
            await _finish(maker, upload_id, status="failed", error=_describe(exc))
            return UploadOutcome(upload_id, "failed", error=_describe(exc))
        await reporter.stop()
        counts = {
            "status": result.status,
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
            **{f"outcome_{k}": v for k, v in result.outcomes.items()},
        }
        await _finish(
            maker,
            upload_id,
            status="done",
            batch_id=result.batch_id,
            rows_done=result.rows_read,
            counts=counts,
        )
        return UploadOutcome(upload_id, "done", result=result)
    finally:
        await engine.dispose()


def _upload_loader(upload: AgencyUpload) -> RollLoader | None:
    if upload.channel != "dci":
        return None
    unit = PROGRAM_LOADERS[upload.sector].unit
    return DciEnrollmentLoader(program=upload.program_code, unit=unit)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


Sessions = async_sessionmaker[AsyncSession]


async def _finish(maker: Sessions, upload_id: int, **values: object) -> None:
    async with session_scope(maker) as session:
        await agency_repository.set_upload(
            session, upload_id=upload_id, finished_at=utcnow(), **values
        )


class _Reporter:
    """Writes an upload's rows done about once a second while its load runs."""

    def __init__(self, maker: Sessions, upload_id: int) -> None:
        self.maker = maker
        self.upload_id = upload_id
        self.rows_done = 0
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    def progress(self, done: int) -> None:
        self.rows_done = done

    async def _run(self) -> None:
        last = -1
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=PROGRESS_EVERY_S)
            if self.rows_done != last:
                last = self.rows_done
                async with session_scope(self.maker) as session:
                    await agency_repository.set_upload(
                        session, upload_id=self.upload_id, rows_done=last
                    )

    async def stop(self) -> None:
        self._stop.set()
        await self._task


ABANDONED = "the worker loading it stopped (killed, out of memory or lost); send the file again"


async def fail_abandoned_uploads(database_url: str) -> list[int]:
    """Uploads left `running` by a dead worker, marked failed (each worker does it at start)."""
    engine = make_engine(database_url, pool_size=1, role="worker")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await uploads.fail_abandoned(session, error=ABANDONED)
    finally:
        await engine.dispose()


async def fail_unfinished_upload(database_url: str, upload_id: int, error: str) -> bool:
    """Mark an upload failed when the process loading it ended without finishing it."""
    engine = make_engine(database_url, pool_size=1, role="worker")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await uploads.fail_if_unfinished(session, upload_id=upload_id, error=error)
    finally:
        await engine.dispose()
