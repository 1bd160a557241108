"""Sector uploads: scope per program, size limit, background load, progress, quarantine CSV."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from api.rest import cargas
from api.state import AppState
from rnu.db import session_scope
from tests.api.agency_support import agency_headers, committed_agency, run_jobs


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
