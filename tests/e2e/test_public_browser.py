"""The citizens' pages in a real headless Chromium, with axe-core accessibility checks.

A database of its own (committed rows: the server's connections cannot see a test's rolled-back
transaction) is served by uvicorn on a free local port. axe-core comes from npm
(`npm ci --prefix tests/e2e`) and is injected into each page; serious or critical violations fail.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from rnu.config import Settings
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.migrate import upgrade
from tests.conftest import drop_test_database, make_test_database
from tests.factories import create_batch, create_enrollment, create_household, create_person

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
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian package chromium)"),
]


@dataclass(frozen=True)
class Site:
    url: str
    dni: str
    birth: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def e2e_database(server_url: str) -> Iterator[str]:
    url = make_test_database(server_url, prefix="rnu_e2e")
    upgrade(url)
    from rnu.program.service import sync_programs_sync
    from rnu.ubigeo.service import load_reference_sync

    load_reference_sync(url)
    sync_programs_sync(url)
    yield url
    drop_test_database(server_url, url)


async def _seed(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=2, role="e2e-seed")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            batch = await create_batch(session, source="PENSION65", period="2026-10")
            names = [("ROSA", "HUAMAN", "CCORI"), ("JUAN CARLOS", "QUISPE", "MAMANI")]
            names += [(f"PERSONA{i}", "LOPEZ", "DIAZ") for i in range(30)]
            for i, (nombres, paterno, materno) in enumerate(names):
                household = await create_household(session, ubigeo="080101", cse="PE")
                person = await create_person(
                    session, household=household, ubigeo="080101",
                    doc_number=f"{20000000 + i:08d}", nombres=nombres,
                    apellido_paterno=paterno, apellido_materno=materno,
                    birth_on=date(1950, 3, 9),
                )  # fmt: skip
                await create_enrollment(
                    session, person=person, batch=batch, ubigeo="080101",
                    household_id=household.id,
                )  # fmt: skip
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def site(e2e_database: str, redis_url: str) -> AsyncIterator[Site]:
    await _seed(e2e_database)
    from web.app import create_app

    settings = Settings(
        database_url=e2e_database,
        redis_url=redis_url,
        environment="test",
        secret_key="e2e-secret",
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # uvicorn offers no start event; poll its flag for up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", "20000000", "09/03/1950")
    server.should_exit = True
    await task


@pytest.fixture
async def page(site: Site) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(locale="es-PE", viewport={"width": 390, "height": 844})
        yield await context.new_page()
        await browser.close()


async def check_accessibility(page: Any, name: str) -> None:
    """Inject axe-core, run the WCAG 2.1 A/AA rules; no serious or critical violation."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed and npm could not install it")
    # Evaluated over the DevTools protocol, not as a <script> tag: the pages' CSP (script-src
    # 'self') rightly refuses an injected inline script, and the test must not weaken it.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"public-{name}.png"), full_page=True)
    assert not bad, json.dumps(
        [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in bad], indent=1
    )


async def test_self_lookup_success_and_failure(site: Site, page: Any) -> None:
    await page.goto(f"{site.url}/consulta")
    await check_accessibility(page, "consulta")
    await page.get_by_label("Número de DNI").fill(site.dni)
    await page.get_by_label("Fecha de nacimiento").fill("10/03/1950")
    await page.get_by_role("button", name="Consultar").click()
    await page.wait_for_selector("[role=alert]")
    assert "No encontramos a una persona" in await page.inner_text("main")
    await check_accessibility(page, "consulta-fallida")
    await page.get_by_label("Número de DNI").fill(site.dni)
    await page.get_by_label("Fecha de nacimiento").fill(site.birth)
    await page.get_by_role("button", name="Consultar").click()
    await page.wait_for_selector("h1:has-text('Sus programas')")
    text = await page.inner_text("main")
    assert "Pensión 65" in text
    assert "pobre extremo" in text
    await check_accessibility(page, "consulta-resultado")


async def test_field_errors_are_announced(site: Site, page: Any) -> None:
    await page.goto(f"{site.url}/consulta")
    await page.get_by_label("Número de DNI").fill("12")
    await page.get_by_role("button", name="Consultar").click()
    await page.wait_for_selector("#dni-error")
    focused = await page.evaluate("document.activeElement.id")
    assert focused == "dni"  # the enhancement moves focus to the first field in error
    await check_accessibility(page, "consulta-errores")


async def test_roll_browsing_search_report_and_tracking(site: Site, page: Any) -> None:
    await page.goto(f"{site.url}/padron")
    await check_accessibility(page, "padron")
    for code in ("08", "0801", "080101"):  # department, province, district
        await page.locator("main ul.lugares").get_by_role("link", name="Cusco", exact=True).click()
        await page.wait_for_url(re.compile(f"/padron/{code}$"))
    await check_accessibility(page, "padron-distrito")
    await page.get_by_role("link", name="Pensión 65").click()
    await page.wait_for_selector("table.padron")
    await check_accessibility(page, "padron-lista")
    assert "20000000" not in await page.content()
    await page.get_by_label("Buscar por primer nombre e iniciales de los apellidos").fill("rosa h")
    await page.get_by_role("button", name="Buscar").click()
    await page.wait_for_selector("text=ROSA H*** C***")
    rows = await page.locator("table.padron tbody tr").count()
    assert rows == 1
    await page.get_by_role("link", name="Reportar a ROSA H*** C***").click()
    await page.wait_for_selector("h1:has-text('Reportar un caso')")
    await check_accessibility(page, "reportar")
    await page.get_by_label("La persona falleció").check()
    await page.get_by_label("Cuéntenos el caso (opcional)").fill("Falleció en setiembre.")
    await page.get_by_role("button", name="Enviar reporte").click()
    await page.wait_for_selector("#codigo")
    code = (await page.inner_text("#codigo")).strip()
    assert re.fullmatch(r"RNU-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    await check_accessibility(page, "reporte-recibido")
    await page.get_by_role("link", name="Ver el estado de este reporte").click()
    await page.wait_for_selector("text=Estado: Recibido")
    await check_accessibility(page, "seguimiento")


async def test_statistics_page_renders_its_charts(site: Site, page: Any) -> None:
    await page.goto(f"{site.url}/estadisticas")
    charts = page.locator("figure.grafico ol.barras")
    assert await charts.count() >= 1
    box = await charts.first.bounding_box()
    assert box is not None
    assert box["height"] > 100
    bars = await page.locator("figure.grafico rect.barra").count()
    assert bars >= 1
    await check_accessibility(page, "estadisticas")
    await page.goto(f"{site.url}/datos-abiertos")
    await check_accessibility(page, "datos-abiertos")
    await page.goto(f"{site.url}/")
    await check_accessibility(page, "inicio")
