"""Sector uploads (cargas): a roll file sent through the API, loaded in the background.

The request stores the file and inserts the upload row and its job in one transaction; the
worker then runs the very pipeline `rnu load` runs (``usecases.loads``), so an API upload
and an operator's load give the same batch, counts and quarantine.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu import jobs
from rnu.agency import repository
from rnu.agency.models import AgencyUpload, ApiClient
from rnu.agency.service import ENROLLMENT_WRITE
from rnu.errors import Forbidden, NotFound


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
    sector: str,
    channel: str = "cargas",
    confirm_drop: bool = False,
) -> AgencyUpload:
    """Record the upload and enqueue its load, in the caller's transaction.

    `confirm_drop`: the sender confirmed that this roll may replace a much larger one (see
    `rnu.ingest.replacement`); it travels with the job.
    """
    check_can_upload(client, program_code)
    assert client.id is not None
    upload = AgencyUpload(
        client_id=client.id,
        channel=channel,
        sector=sector,
        program_code=program_code,
        period=period,
        file_name=file_name,
        stored_path=str(stored_path),
        size_bytes=size_bytes,
    )
    await repository.add(session, upload)
    assert upload.id is not None
    args: dict[str, object] = {"upload_id": upload.id}
    if confirm_drop:
        args["confirm_drop"] = True
    await jobs.defer(session, jobs.TASK_UPLOAD, args)
    return upload


async def get_for_client(session: AsyncSession, *, client_id: int, upload_id: int) -> AgencyUpload:
    """The upload, only for the client that sent it (NotFound for anyone else)."""
    upload = await repository.get_upload(session, upload_id=upload_id)
    if upload is None or upload.client_id != client_id:
        raise NotFound("no such upload")
    return upload
