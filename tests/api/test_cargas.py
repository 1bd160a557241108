"""Sector uploads: scope per program, size limit, background load, progress, quarantine CSV."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.rest import cargas
from api.state import AppState
from cli import worker
from rnu.config import Settings
from rnu.db import session_scope
from tests.api.agency_support import agency_headers, committed_agency, run_jobs
from usecases.loads import fail_abandoned_uploads


@pytest.fixture
def app_state(isolated_app_state: AppState) -> AppState:
    """These tests commit what they seed: a database of their own keeps the shared one clean."""
    return isolated_app_state


@pytest.fixture
def session(isolated_session: AsyncSession) -> AsyncSession:
    return isolated_session


JUNTOS = (
    "PERIODO|UBIGEO|COD_HOGAR|DNI_TITULAR|APELLIDOS_NOMBRES_TITULAR|FEC_NAC|MONTO|ESTADO\n"
    "202610|080101|J001|41234567|QUISPE MAMANI, ROSA|17/05/1980|200.00|ACTIVO\n"
    "202610|080101|J002|42345678|HUAMAN CCORI, JUAN|01/02/1975|200.00|ACTIVO\n"
    "esta linea esta rota\n"
).encode("latin-1")


def files(content: bytes = JUNTOS, name: str = "juntos_202610.txt") -> dict:
    return {"archivo": (name, content, "text/plain")}


class TestScopes:
    async def test_a_sector_cannot_upload_another_programs_roll(self, api, session) -> None:
        headers = await agency_headers(session, "enrollment:write:JUNTOS", purpose="carga_padron")
        response = await api.post(
            "/api/v1/cargas",
            headers=headers,
            files=files(),
            data={"programa": "PENSION65", "periodo": "2026-10"},
        )
        assert response.status_code == 403
        assert response.json()["error"] == "Forbidden"

    async def test_file_over_the_limit_is_refused_clearly(
        self, api, session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cargas, "MAX_UPLOAD_BYTES", 100)
        headers = await agency_headers(session, "enrollment:write:JUNTOS", purpose="carga_padron")
        response = await api.post(
            "/api/v1/cargas",
            headers=headers,
            files=files(),
            data={"programa": "JUNTOS", "periodo": "2026-10"},
        )
        assert response.status_code == 400
        assert "larger than the limit" in response.json()["detail"]

    async def test_another_agency_cannot_see_the_upload(self, api, session) -> None:
        headers = await agency_headers(session, "enrollment:write:JUNTOS", purpose="carga_padron")
        created = await api.post(
            "/api/v1/cargas",
            headers=headers,
            files=files(),
            data={"programa": "JUNTOS", "periodo": "2026-10"},
        )
        assert created.status_code == 202
        other = await agency_headers(session, "enrollment:write:JUNTOS", purpose="carga_padron")
        response = await api.get(f"/api/v1/cargas/{created.json()['id']}", headers=other)
        assert response.status_code == 404


@pytest.mark.slow
class TestBackgroundLoad:
    async def test_upload_loads_through_the_pipeline(
        self, client: httpx.AsyncClient, app_state: AppState
    ) -> None:
        headers = await committed_agency(
            app_state, "enrollment:write:JUNTOS", purpose="carga_padron"
        )
        created = await client.post(
            "/api/v1/cargas",
            headers=headers,
            files=files(JUNTOS + b"\n", name="juntos_oct.txt"),
            data={"programa": "JUNTOS", "periodo": "2026-10"},
        )
        assert created.status_code == 202, created.text
        upload = created.json()
        assert upload["estado"] == "queued"

        async def done() -> bool:
            async with session_scope(app_state.sessionmaker) as s:
                from sqlalchemy import text

                status = await s.scalar(
                    text("SELECT status FROM agency_upload WHERE id = :i"), {"i": upload["id"]}
                )
            return status in ("done", "failed")

        await run_jobs(app_state, until=done)
        final = (await client.get(f"/api/v1/cargas/{upload['id']}", headers=headers)).json()
        assert final["estado"] == "done", final
        assert final["conteos"]["rows_read"] == 3
        assert final["conteos"]["rows_quarantined"] == 1
        assert final["lote"] is not None
        csv_response = await client.get(final["cuarentena_url"], headers=headers)
        assert csv_response.status_code == 200
        lines = csv_response.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("fila,motivos,detalle")
        assert len(lines) == 2


# Upload jobs: limited per job, and never left `running` by a dead process (issue 11.9).


async def status_of(state: AppState, upload_id: int) -> tuple[str, str | None]:
    async with session_scope(state.sessionmaker) as s:
        row = (
            await (await s.connection()).execute(
                text("SELECT status, error FROM agency_upload WHERE id = :i"), {"i": upload_id}
            )
        ).one()
    return row[0], row[1]


@pytest.mark.slow
async def test_an_upload_whose_process_dies_is_marked_failed(
    client: httpx.AsyncClient, app_state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child loading the upload cannot get the memory it needs: it dies, the upload fails."""
    monkeypatch.setattr(
        worker, "get_settings", lambda: Settings(upload_max_memory_mb=64, upload_max_seconds=60)
    )
    headers = await committed_agency(app_state, "enrollment:write:JUNTOS", purpose="carga_padron")
    created = await client.post(
        "/api/v1/cargas",
        headers=headers,
        files=files(JUNTOS, name="juntos_202610.txt"),
        data={"programa": "JUNTOS", "periodo": "2026-10"},
    )
    assert created.status_code == 202, created.text
    upload_id = created.json()["id"]

    async def finished() -> bool:
        return (await status_of(app_state, upload_id))[0] in ("done", "failed")

    await run_jobs(app_state, until=finished)
    status, error = await status_of(app_state, upload_id)
    assert status == "failed"
    assert error is not None
    assert error.startswith("the load stopped")
    assert "64 MiB" in error


async def seed_running_upload(state: AppState, *, live_worker: bool) -> int:
    """An upload marked running whose job is `doing`, on a live or a vanished worker."""
    async with session_scope(state.sessionmaker) as s:
        client_id = await s.scalar(
            text(
                "INSERT INTO api_client (agency, key_prefix, key_hash, scopes) "
                "VALUES ('T', left(md5(random()::text), 12), md5(random()::text), "
                "ARRAY['enrollment:write:JUNTOS']) RETURNING id"
            )
        )
        upload_id = await s.scalar(
            text(
                "INSERT INTO agency_upload (client_id, sector, program_code, period, file_name, "
                "stored_path, size_bytes, status, counts) VALUES (:c, 'juntos', 'JUNTOS', "
                "'2026-10', 'f.txt', '/nonexistent', 1, 'running', '{}') RETURNING id"
            ),
            {"c": client_id},
        )
        worker_id = None
        if live_worker:
            worker_id = await s.scalar(
                text("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")
            )
        await (await s.connection()).execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, worker_id) "
                "VALUES ('rnu', 'rnu:load_upload', "
                "jsonb_build_object('upload_id', CAST(:u AS bigint)), 'doing', CAST(:w AS bigint))"
            ),
            {"u": upload_id, "w": worker_id},
        )
    return int(upload_id)


async def test_a_dead_workers_upload_is_failed_and_a_live_ones_is_kept(
    app_state: AppState,
) -> None:
    orphan = await seed_running_upload(app_state, live_worker=False)
    alive = await seed_running_upload(app_state, live_worker=True)
    failed = await fail_abandoned_uploads(app_state.endpoints.database_url)
    assert orphan in failed
    assert alive not in failed
    assert (await status_of(app_state, orphan))[0] == "failed"
    assert (await status_of(app_state, alive))[0] == "running"
    async with session_scope(app_state.sessionmaker) as s:
        job_status = await s.scalar(
            text(
                "SELECT status::text FROM procrastinate_jobs "
                "WHERE (args->>'upload_id')::bigint = :u"
            ),
            {"u": orphan},
        )
    assert job_status == "failed"
