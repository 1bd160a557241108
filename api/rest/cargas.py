"""Sector uploads (cargas): send a roll file, follow its load, download its quarantine CSV."""

from __future__ import annotations

import re
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from api.auth.agency import Agency, AgencyDep
from api.deps import SessionDep, StateDep
from rnu.agency import uploads
from rnu.agency.models import AgencyUpload
from rnu.errors import InvalidInput
from rnu.person.service import check_period
from usecases import loads

router = APIRouter(prefix="/api/v1/cargas", tags=["agencias"])

# Files over this are refused while streaming, before the whole body is stored.
MAX_UPLOAD_BYTES = 2 * 1024**3
CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# Ids are bigints: anything outside is refused as invalid input, never sent to PostgreSQL.
CargaId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


class CargaOut(BaseModel):
    """An upload and its load: ``estado`` queued → running → done | failed."""

    id: int
    programa: str
    periodo: str
    archivo: str
    bytes: int
    estado: str
    filas_procesadas: int
    lote: int | None
    conteos: dict[str, Any]
    error: str | None
    cuarentena_url: str | None

    @classmethod
    def from_domain(cls, upload: AgencyUpload) -> CargaOut:
        assert upload.id is not None
        quarantined = int(upload.counts.get("rows_quarantined", 0) or 0)
        return cls(
            id=upload.id,
            programa=upload.program_code,
            periodo=upload.period,
            archivo=upload.file_name,
            bytes=upload.size_bytes,
            estado=upload.status,
            filas_procesadas=upload.rows_done,
            lote=upload.batch_id,
            conteos=upload.counts,
            error=upload.error,
            cuarentena_url=(
                f"/api/v1/cargas/{upload.id}/cuarentena"
                if upload.batch_id and quarantined
                else None
            ),
        )


def upload_dir(data_dir: Path) -> Path:
    folder = data_dir / "cargas" / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def store(upload: UploadFile, folder: Path, limit: int) -> tuple[Path, int]:
    """Copy the upload to disk in 1 MiB chunks, refusing it as soon as it passes ``limit``."""
    name = _SAFE_NAME.sub("_", Path(upload.filename or "archivo").name)[:120] or "archivo"
    path = folder / name
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise InvalidInput(
                    f"the file is larger than the limit of {limit // (1024 * 1024)} MiB; "
                    "split it by period or compress it (.csv.gz)"
                )
            out.write(chunk)
    if size == 0:
        path.unlink(missing_ok=True)
        raise InvalidInput("the file is empty")
    return path, size


@router.post("", status_code=202, response_model=CargaOut)
async def create_carga(
    agency: AgencyDep,
    session: SessionDep,
    state: StateDep,
    archivo: Annotated[UploadFile, File(description="The roll file, in the sector's format.")],
    programa: Annotated[str, Form(description="Program code, e.g. PENSION65.")],
    periodo: Annotated[str, Form(description="YYYY-MM (YYYY for Beca 18).")],
) -> CargaOut:
    """Send a program roll (scope `enrollment:write:<PROGRAMA>`); it loads in the background."""
    code = programa.strip().upper()
    check_period(periodo)
    uploads.check_can_upload(agency.client, code)
    path, size = await store(archivo, upload_dir(state.settings.data_dir), MAX_UPLOAD_BYTES)
    upload = await loads.accept_upload(
        session,
        client=agency.client,
        program_code=code,
        period=periodo,
        file_name=Path(archivo.filename or path.name).name[:200],
        stored_path=path.resolve(),
        size_bytes=size,
    )
    return CargaOut.from_domain(upload)


@router.get("/{carga_id}", response_model=CargaOut)
async def get_carga(carga_id: CargaId, agency: AgencyDep, session: SessionDep) -> CargaOut:
    """Progress and, when done, the final counts of an upload (only for its sender)."""
    upload = await uploads.get_for_client(session, client_id=agency.client_id, upload_id=carga_id)
    return CargaOut.from_domain(upload)


async def _own_upload(carga_id: CargaId, agency: AgencyDep, session: SessionDep) -> AgencyUpload:
    return await uploads.get_for_client(session, client_id=agency.client_id, upload_id=carga_id)


@router.get(
    "/{carga_id}/cuarentena",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_cuarentena(
    upload: Annotated[AgencyUpload, Depends(_own_upload)], state: StateDep
) -> FileResponse:
    """The rows that could not be loaded, with reasons in Spanish (CSV, for the uploader)."""
    if upload.batch_id is None:
        raise InvalidInput("the upload has not been loaded yet")
    handle = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
    handle.close()
    path = Path(handle.name)
    await loads.write_quarantine(state.endpoints.database_url, upload.batch_id, path)
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        filename=f"cuarentena_{upload.program_code}_{upload.period}_{upload.id}.csv",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


__all__ = ["Agency", "router"]
