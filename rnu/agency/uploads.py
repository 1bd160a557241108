"""Sector uploads (cargas): a roll file sent through the API, loaded in the background.

The request stores the file and inserts the upload row and its job in one transaction; the
worker then runs the very pipeline `rnu load` runs (``rnu.ingest.service.load_file``), so an
API upload and an operator's load give the same batch, counts and quarantine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency import repository
from rnu.agency.models import AgencyUpload, ApiClient
from rnu.agency.service import ENROLLMENT_WRITE
from rnu.base import utcnow
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.errors import Forbidden, InvalidInput, NotFound
from rnu.ingest.batch import BatchResult, Progress
from rnu.ingest.program import ProgramFile, load_program
from rnu.ingest.rows import CanonicalRow, Reject
from rnu.ingest.service import PlannedFile, load_file, loader_registry

log = logging.getLogger("rnu.agency.uploads")
PROGRESS_EVERY_S = 1.0


def sector_for(program_code: str, period: str) -> str:
    """The loader sector that reads this program's roll; InvalidInput when there is none."""
    registry = loader_registry()
    for sector, cls in registry.LOADERS.items():
        if getattr(cls(period=period), "program", None) == program_code:
            return str(sector)
    raise InvalidInput(f"no loader reads rolls of program {program_code!r}")


def check_can_upload(client: ApiClient, program_code: str) -> None:
    """A sector may upload only its own program's rolls (scope enrollment:write:<PROGRAM>)."""
    if f"{ENROLLMENT_WRITE}{program_code}" not in client.scopes:
        raise Forbidden(f"this API key may not upload rolls of {program_code}")


async def create(
    session: AsyncSession,
    *,
    client: ApiClient,
    program_code: str,
    period: str,
    file_name: str,
    stored_path: Path,
    size_bytes: int,
    channel: str = "cargas",
) -> AgencyUpload:
    """Record the upload and enqueue its load, in the caller's transaction."""
    from rnu import jobs

    check_can_upload(client, program_code)
    assert client.id is not None
    upload = AgencyUpload(
        client_id=client.id,
        channel=channel,
        sector=sector_for(program_code, period),
        program_code=program_code,
        period=period,
        file_name=file_name,
        stored_path=str(stored_path),
        size_bytes=size_bytes,
    )
    await repository.add(session, upload)
    assert upload.id is not None
    await jobs.defer(session, jobs.TASK_UPLOAD, {"upload_id": upload.id})
    return upload


async def get_for_client(session: AsyncSession, *, client_id: int, upload_id: int) -> AgencyUpload:
    """The upload, only for the client that sent it (NotFound for anyone else)."""
    upload = await repository.get_upload(session, upload_id=upload_id)
    if upload is None or upload.client_id != client_id:
        raise NotFound("no such upload")
    return upload


async def run(database_url: str, upload_id: int) -> None:
    """Load an upload's file; progress and the outcome are written on its row."""
    engine = make_engine(database_url, pool_size=2, role="worker")
    maker = make_sessionmaker(engine)
    try:
        async with session_scope(maker) as session:
            upload = await repository.get_upload(session, upload_id=upload_id)
            if upload is None or upload.status in ("done", "failed"):
                return
            await repository.set_upload(session, upload_id=upload_id, status="running")
        rows_done = 0
        stop = asyncio.Event()

        def progress(done: int) -> None:
            nonlocal rows_done
            rows_done = done

        async def report() -> None:
            last = -1
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=PROGRESS_EVERY_S)
                if rows_done != last:
                    last = rows_done
                    async with session_scope(maker) as session:
                        await repository.set_upload(
                            session, upload_id=upload_id, rows_done=rows_done
                        )

        reporter = asyncio.create_task(report())
        try:
            result = await _load(database_url, upload, progress)
        except Exception as exc:  # the job must record any failure on the upload row
            log.exception("upload %s failed", upload_id)
            stop.set()
            await reporter
            async with session_scope(maker) as session:
                await repository.set_upload(
                    session,
                    upload_id=upload_id,
                    status="failed",
                    error=f"{type(exc).__name__}: {exc}"[:500],
                    finished_at=utcnow(),
                )
            return
        stop.set()
        await reporter
        counts = {
            "status": result.status,
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
            **{f"outcome_{k}": v for k, v in result.outcomes.items()},
        }
        async with session_scope(maker) as session:
            await repository.set_upload(
                session,
                upload_id=upload_id,
                status="done",
                batch_id=result.batch_id,
                rows_done=result.rows_read,
                counts=counts,
                finished_at=utcnow(),
            )
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------------
# DCI enrollment updates: records pushed as JSON lines, loaded through the program pipeline.

_SEX = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F"}


def _text(record: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return None


def dci_row(row_number: int, record: dict[str, Any]) -> CanonicalRow | Reject:
    """One pushed beneficiary as a canonical row, or a Reject with reason codes."""
    from rnu.person.service import normalize_document

    raw = {k: str(v) for k, v in record.items() if not isinstance(v, dict | list)}
    reasons: list[str] = []
    doc_type = (_text(record, "identifier_type", "id_type") or "").upper() or None
    number = _text(record, "identifier_value", "id_value")
    if doc_type or number:
        try:
            number = normalize_document(number or "", doc_type or "DNI")
            doc_type = doc_type or "DNI"
        except InvalidInput:
            reasons.append("invalid_document")
    nombres = _text(record, "given_name", "nombres")
    paterno = _text(record, "surname", "family_name", "apellido_paterno")
    materno = _text(record, "second_surname", "apellido_materno")
    if not nombres or not paterno:
        reasons.append("missing_name")
    birth: date | None = None
    birth_text = _text(record, "birth_date", "fecha_nacimiento")
    if birth_text:
        try:
            birth = date.fromisoformat(birth_text[:10])
        except ValueError:
            reasons.append("invalid_date")
    ubigeo = _text(record, "ubigeo", "location")
    if ubigeo and not (ubigeo.isdigit() and len(ubigeo) == 6):
        reasons.append("invalid_ubigeo")
    if reasons:
        return Reject(str(row_number), tuple(reasons), raw)
    return CanonicalRow(
        row_number=str(row_number),
        doc_type=doc_type,
        doc_number=number,
        nombres=nombres,
        apellido_paterno=paterno,
        apellido_materno=materno,
        full_name=" ".join(p for p in (nombres, paterno, materno) if p),
        birth_date=birth,
        sex=_SEX.get((_text(record, "sex") or "").upper()),
        ubigeo=ubigeo,
        household_code=_text(record, "assistance_unit", "household_code"),
        raw=raw,
    )


def dci_rows(path: Path) -> Iterator[CanonicalRow | Reject]:
    """Stream the stored JSON-lines file of a DCI enrollment update."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                yield Reject(str(number), ("malformed_line",), line.decode("utf-8", "replace"))
                continue
            if not isinstance(record, dict):
                yield Reject(str(number), ("malformed_line",), str(record)[:200])
                continue
            yield dci_row(number, record)


async def _load(database_url: str, upload: AgencyUpload, progress: Progress) -> BatchResult:
    path = Path(upload.stored_path)
    if upload.channel != "dci":
        planned = PlannedFile(path, upload.sector, upload.period)
        return await load_file(database_url, planned, progress=progress)
    unit = loader_registry().LOADERS[upload.sector](period=upload.period).unit
    spec = ProgramFile(program=upload.program_code, period=upload.period, unit=unit)
    return await load_program(database_url, path, dci_rows(path), spec, progress=progress)
