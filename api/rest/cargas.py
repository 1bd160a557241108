"""Sector uploads (cargas): send a roll file, follow its load, download its quarantine CSV."""

from __future__ import annotations

import contextlib
import re
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from api.auth.agency import Agency, AgencyDep
from api.deps import SessionDep, StateDep
from api.rest.upload_body import check_declared_length, receive
from rnu.agency import uploads
from rnu.agency.models import AgencyUpload
from rnu.errors import InvalidInput
from rnu.person.service import check_period
from usecases import loads

router = APIRouter(prefix="/api/v1/cargas", tags=["agencias"])

# Files over this are refused from Content-Length, or while streaming, never stored whole.
MAX_UPLOAD_BYTES = 2 * 1024**3
TRUE = frozenset({"1", "true", "si", "sí", "yes", "on"})
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


_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["archivo", "programa", "periodo"],
                    "properties": {
                        "archivo": {
                            "type": "string",
                            "format": "binary",
                            "description": "The roll file, in the sector's format.",
                        },
                        "programa": {
                            "type": "string",
                            "description": "Program code, e.g. PENSION65.",
                        },
                        "periodo": {"type": "string", "description": "YYYY-MM (YYYY for Beca 18)."},
                        "confirmar_reemplazo": {
                            "type": "boolean",
                            "description": "Replace the period's roll even when this one has "
                            "less than half of its enrolments (refused otherwise).",
                        },
                    },
                }
            }
        },
    }
}


@router.post("", status_code=202, response_model=CargaOut, openapi_extra=_FORM_SCHEMA)
async def create_carga(
    request: Request, agency: AgencyDep, session: SessionDep, state: StateDep
) -> CargaOut:
    """Send a program roll (scope `enrollment:write:<PROGRAMA>`); it loads in the background.

    The body is read only after the key is checked, and never past `MAX_UPLOAD_BYTES`
    (`api.rest.upload_body`).
    """
    check_declared_length(request.headers.get("content-length"), MAX_UPLOAD_BYTES)
    folder = upload_dir(state.settings.data_dir)
    target = folder / "archivo"
    try:
        received = await receive(
            request.stream(),
            request.headers.get("content-type"),
            file_field="archivo",
            target=target,
            limit=MAX_UPLOAD_BYTES,
        )
        code = received.fields.get("programa", "").strip().upper()
        period = received.fields.get("periodo", "").strip()
        if received.path is None or not code or not period:
            raise InvalidInput("send the fields archivo, programa and periodo")
        if received.size == 0:
            raise InvalidInput("the file is empty")
        check_period(period)
        uploads.check_can_upload(agency.client, code)
        name = Path(received.file_name or "archivo").name
        stored = target.rename(folder / (_SAFE_NAME.sub("_", name)[:120] or "archivo"))
    except BaseException:
        target.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
        raise
    upload = await loads.accept_upload(
        session,
        client=agency.client,
        program_code=code,
        period=period,
        file_name=name[:200],
        stored_path=stored.resolve(),
        size_bytes=received.size,
        confirm_drop=received.fields.get("confirmar_reemplazo", "").lower() in TRUE,
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
