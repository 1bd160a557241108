"""The analyst pages in a real headless Chromium: login, filter, open a flag, dismiss with reason.

The app is served by uvicorn on a free local port in the test's event loop, on the test
database; the rows the test needs are committed first and deleted at the end (the server's
own connections cannot see a rolled-back test transaction).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.config import Settings
from rnu.db import session_scope
from rnu.flag.models import Flag
from rnu.person.models import Person
from rnu.staff import service as staff_service


@pytest.fixture
def app_state(isolated_app_state: AppState) -> AppState:
    """These tests commit what they seed: a database of their own keeps the shared one clean."""
    return isolated_app_state


@pytest.fixture
def session(isolated_session: AsyncSession) -> AsyncSession:
    return isolated_session


CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "clave-navegador-2026"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian package chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def seeded(app_state: AppState) -> AsyncIterator[dict[str, int | str]]:
    """Committed rows: an analyst, two people, and one flag each in different departments."""
    async with session_scope(app_state.sessionmaker) as session:
        user = await staff_service.create_user(
            session, username="analista.navegador", role="analyst", password=PASSWORD
        )
        lima = Person(
            nombres="FELICITA", apellido_paterno="HUAMAN", apellido_materno="ROJAS",
            doc_type="DNI", doc_number="70112233", ubigeo="150101", in_pgh=True,
        )  # fmt: skip
        cusco = Person(
            nombres="ALEJO", apellido_paterno="CCORI", apellido_materno="PUMA",
            doc_type="DNI", doc_number="70445566", ubigeo="080101", in_pgh=True,
        )  # fmt: skip
        session.add_all([lima, cusco])
        await session.flush()
        lima_flag = Flag(
            kind="deceased", severity="high", subject_key=f"browser:{lima.id}",
            person_id=lima.id, program_code="PENSION65", period="2026-10", ubigeo="150101",
            evidence={"regla": "fallecido antes del periodo", "fecha_defuncion": "2026-08-01"},
        )  # fmt: skip
        cusco_flag = Flag(
            kind="cse_expired", severity="medium", subject_key=f"browser:{cusco.id}",
            person_id=cusco.id, program_code="JUNTOS", period="2026-10", ubigeo="080101",
            evidence={"regla": "CSE vencida"},
        )  # fmt: skip
        session.add_all([lima_flag, cusco_flag])
        await session.flush()
        ids: dict[str, int | str] = {
            "user": user.id or 0,
            "username": user.username,
            "lima_flag": lima_flag.id or 0,
            "cusco_flag": cusco_flag.id or 0,
            "people": f"{lima.id},{cusco.id}",
        }
    yield ids
    async with session_scope(app_state.sessionmaker) as session:
        flags = [ids["lima_flag"], ids["cusco_flag"]]
        people = [int(p) for p in str(ids["people"]).split(",")]
        for statement, params in (
            ("DELETE FROM flag_event WHERE flag_id = ANY(:ids)", {"ids": flags}),
            ("DELETE FROM flag WHERE id = ANY(:ids)", {"ids": flags}),
            ("DELETE FROM person WHERE id = ANY(:ids)", {"ids": people}),
            ("DELETE FROM audit_event WHERE actor_id = :a", {"a": "analyst:analista.navegador"}),
            ("DELETE FROM staff_session WHERE user_id = :u", {"u": ids["user"]}),
            ("DELETE FROM staff_user WHERE id = :u", {"u": ids["user"]}),
        ):
            await session.exec(text(statement), params=params)  # type: ignore[call-overload]


@pytest.fixture
async def server(app_state: AppState, tmp_path: Path) -> AsyncIterator[str]:
    from web.app import create_app

    state = replace(app_state, settings=Settings(environment="test", data_dir=tmp_path))
    port = free_port()
    config = uvicorn.Config(
        create_app(state=state), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    for _ in range(100):
        if srv.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await task


async def test_login_filter_open_and_dismiss(server: str, seeded: dict[str, int | str]) -> None:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{server}/analista")
            assert "/analista/ingresar" in page.url  # not logged in: sent to the login form
            await page.get_by_label("Usuario").fill(str(seeded["username"]))
            await page.get_by_label("Contraseña").fill(PASSWORD)
            await page.get_by_role("button", name="Ingresar").click()
            await page.wait_for_url(f"{server}/analista")
            await page.screenshot(path=str(ARTIFACTS / "analista-1-cola.png"), full_page=True)
            assert await page.locator("html").get_attribute("lang") == "es"

            # Filter: department Lima only.
            await page.get_by_label("Departamento").select_option("15")
            await page.get_by_role("button", name="Filtrar").click()
            await page.wait_for_load_state()
            body = await page.locator("tbody").inner_text()
            assert "FELICITA" in body
            assert "ALEJO" not in body
            await page.screenshot(path=str(ARTIFACTS / "analista-2-filtro.png"), full_page=True)

            # Open the flag.
            await page.get_by_role("link", name=str(seeded["lima_flag"]), exact=True).click()
            await page.wait_for_url(f"**/analista/alertas/{seeded['lima_flag']}")
            assert "70112233" not in await page.content()  # first: why open this person?
            await page.get_by_label("Motivo").select_option("revisar_alerta")
            await page.get_by_role("button", name="Ver los datos").click()
            await page.wait_for_url(f"**/analista/alertas/{seeded['lima_flag']}?finalidad=*")
            assert "70112233" in await page.content()
            await page.screenshot(path=str(ARTIFACTS / "analista-3-alerta.png"), full_page=True)

            # Dismiss with a reason.
            await page.get_by_label("Motivo del descarte (obligatorio)").fill(
                "El acta de defunción corresponde a un homónimo (verificado en RENIEC)."
            )
            await page.get_by_role("button", name="Descartar").click()
            await page.wait_for_load_state()
            assert await page.locator("#estado").inner_text() == "Descartada"
            assert "homónimo" in await page.content()
            await page.screenshot(path=str(ARTIFACTS / "analista-4-descartada.png"), full_page=True)
        finally:
            await browser.close()
