"""Bulk checks (verificaciones): a CSV of documents → which programs each holder is in.

The answer goes through the same person policy as every agency read (an agency without the
sensitive scope never sees Contigo, which discloses a disability), each person found writes
one audit row, and the result stays downloadable by the agency that asked.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel

from api.auth.agency import Agency, agency_reads, require_scope
from api.deps import SecretDep, SessionDep, StateDep
from privacy.roles import SCOPE_PERSON_READ
from rnu.agency import service as agency_service
from rnu.errors import InvalidInput
from rnu.ingest.quarantine import defuse
from rnu.person import service as person_service

router = APIRouter(prefix="/api/v1/verificaciones", tags=["agencias"])

MAX_ROWS = 50_000
MAX_BYTES = 5 * 1024 * 1024
AUDIT_ACTION = "verificacion.read"
CanReadPeople = Annotated[Agency, Depends(require_scope(SCOPE_PERSON_READ))]


class VerificacionOut(BaseModel):
    id: int
    total: int
    encontrados: int
    invalidos: int
    periodo: str | None
    resultado_url: str


def read_documents(data: bytes) -> list[str]:
    """Documents from the CSV: the column named dni/documento/nu_doc, else the first one."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    text = data.decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text[:2000] else ","))
    if not rows:
        raise InvalidInput("the file has no rows")
    header = [h.strip().lower() for h in rows[0]]
    column = next(
        (i for i, h in enumerate(header) if h in {"dni", "documento", "nu_doc", "num_doc"}), None
    )
    body = rows[1:] if column is not None else rows
    column = column or 0
    documents = [r[column].strip() for r in body if len(r) > column and r[column].strip()]
    if len(documents) > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} documents per file")
    return documents


@router.post("", status_code=201, response_model=VerificacionOut)
async def create_verificacion(
    agency: CanReadPeople,
    session: SessionDep,
    secret: SecretDep,
    state: StateDep,
    archivo: Annotated[UploadFile, File(description="CSV with one document per row.")],
    periodo: Annotated[str | None, Form(description="Only this period (YYYY-MM).")] = None,
) -> VerificacionOut:
    """Check up to 50,000 documents at once (scope `person:read`); each person found is audited."""
    person_service.check_period(periodo)
    documents = read_documents(await archivo.read(MAX_BYTES + 1))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["documento", "valido", "encontrado", "programas", "periodo"])
    found = invalid = 0
    # Charged to the key's daily record quota by the people found (a file reserves one
    # record per document; what was not found goes back).
    async with agency_reads(
        state,
        agency,
        session,
        secret,
        action=AUDIT_ACTION,
        wanted=len(documents),
        cap=MAX_ROWS,
        per_minute=False,
    ) as reads:
        size = person_service.MAX_DOCUMENTS
        for start in range(0, len(documents), size):
            chunk = documents[start : start + size]
            numbers: list[str | None] = []
            for raw in chunk:
                try:
                    numbers.append(person_service.normalize_document(raw))
                except InvalidInput:
                    numbers.append(None)
            people = iter(
                await reads.by_documents(
                    [n for n in numbers if n is not None], period=periodo, with_household=False
                )
            )
            for raw, number in zip(chunk, numbers, strict=True):
                if number is None:
                    invalid += 1
                    # echoed so the agency can find its row; control characters (a NUL cannot
                    # even be stored in PostgreSQL text) are dropped from the echo
                    shown = "".join(ch for ch in raw[:20] if ch.isprintable())
                    writer.writerow([defuse(shown), "no", "", "", periodo or ""])
                    continue
                read = next(people)
                if read is not None:
                    found += 1
                    reads.note(read, ("programs",))
                programs = read.programs if read else ()
                writer.writerow(
                    [number, "si", "si" if read else "no", ";".join(programs), periodo or ""]
                )
        await reads.audit()
    job = await agency_service.save_verification(
        session,
        client=agency.client,
        purpose=agency.purpose,
        period=periodo,
        total=len(documents),
        found=found,
        invalid=invalid,
        result_csv=out.getvalue(),
    )
    assert job.id is not None
    return VerificacionOut(
        id=job.id,
        total=job.total,
        encontrados=job.found,
        invalidos=job.invalid,
        periodo=job.period,
        resultado_url=f"/api/v1/verificaciones/{job.id}/resultado",
    )


@router.get(
    "/{verificacion_id}/resultado",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_resultado(
    verificacion_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
    agency: CanReadPeople,
    session: SessionDep,
) -> Response:
    """The result CSV of a bulk check (only for the agency that asked)."""
    job = await agency_service.get_verification(
        session, client_id=agency.client_id, job_id=verificacion_id
    )
    return Response(
        content=("\ufeff" + job.result_csv).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="verificacion_{job.id}.csv"'},
    )
