"""Sector uploads (cargas): a roll file sent through the API, loaded in the background.

The request stores the file and inserts the upload row and its job in one transaction; the
worker then runs the very pipeline `rnu load` runs (``usecases.loads``), so an API upload
and an operator's load give the same batch, counts and quarantine.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu import jobs
from rnu.agency import repository
from rnu.agency.models import AgencyUpload, ApiClient
from rnu.agency.service import ENROLLMENT_WRITE
from rnu.base import utcnow
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


# Uploads marked `running` whose load job no live worker holds: the worker died (killed,
# out of memory, machine lost). procrastinate's workers beat every 10 s; one silent for
# `stalled_after_s` is gone. $1 task name, $2 seconds.
_ABANDONED = """
SELECT DISTINCT ON (u.id) u.id AS upload_id, j.id AS job_id,
       (j.status = 'doing') AS job_doing
FROM agency_upload u
LEFT JOIN procrastinate_jobs j
  ON j.task_name = :task AND (j.args->>'upload_id')::bigint = u.id
LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
WHERE u.status = 'running'
  AND NOT coalesce(j.status = 'doing' AND w.last_heartbeat >= now() - make_interval(
        secs => CAST(:seconds AS double precision)), false)
ORDER BY u.id, j.id DESC
"""


async def fail_abandoned(
    session: AsyncSession,
    *,
    error: str,
    stalled_after_s: float = 60.0,
) -> list[int]:
    """Mark failed the uploads left `running` by a worker that is gone; their ids.

    Their procrastinate job, still `doing`, is finished as failed too, so the queue's view
    and the upload's agree.
    """
    connection = await session.connection()
    rows = (
        await connection.execute(
            text(_ABANDONED),
            {"task": jobs.TASK_UPLOAD, "seconds": stalled_after_s},
        )
    ).all()
    for row in rows:
        if row.job_doing:
            await connection.execute(
                text("SELECT procrastinate_finish_job_v1(:job, 'failed', false)"),
                {"job": row.job_id},
            )
        await repository.set_upload(
            session, upload_id=row.upload_id, status="failed", error=error, finished_at=utcnow()
        )
    return [int(r.upload_id) for r in rows]


async def fail_if_unfinished(session: AsyncSession, *, upload_id: int, error: str) -> bool:
    """Mark an upload failed unless its load finished (its process died mid-way)."""
    result = await (await session.connection()).execute(
        text(
            "UPDATE agency_upload SET status = 'failed', error = :error, finished_at = now() "
            "WHERE id = :id AND status IN ('queued', 'running')"
        ),
        {"id": upload_id, "error": error[:500]},
    )
    return bool(result.rowcount)
