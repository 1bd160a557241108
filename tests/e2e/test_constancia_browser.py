"""Issue 13.5 in a real headless Chromium, without JavaScript, at 412 px and 1280 px:
lookup → other programs → download the constancia → check its code at /verificar.

Same machinery as ``test_public_browser`` (its own committed database, uvicorn on a free port,
axe-core); the PDF the browser downloads is read back with pypdf.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pypdf import PdfReader

from rnu.config import Settings
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.migrate import upgrade
from tests.conftest import drop_test_database, make_test_database
from tests.e2e.test_public_browser import ARGS, CHROMIUM, _free_port, check_accessibility
from tests.factories import create_batch, create_enrollment, create_household, create_person

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian package chromium)"),
]
DNI, BIRTH = "30000001", "09/03/1950"
CODE = re.compile(r"CON-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture(scope="module")
def constancia_database(server_url: str) -> Iterator[str]:
    url = make_test_database(server_url, prefix="rnu_e2e_constancia")
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
            pension = await create_batch(session, source="PENSION65", period="2026-10")
            await create_batch(session, source="SIS", period="2026-10")  # she is not on it
            household = await create_household(session, ubigeo="080101", cse="PE")
            person = await create_person(
                session, household=household, ubigeo="080101", doc_number=DNI,
                nombres="ROSA", apellido_paterno="HUAMAN", apellido_materno="CCORI",
                birth_on=date(1950, 3, 9),
            )  # fmt: skip
            await create_enrollment(
                session, person=person, batch=pension, ubigeo="080101", household_id=household.id
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def site(constancia_database: str, redis_url: str) -> AsyncIterator[str]:
    await _seed(constancia_database)
    from web.app import create_app

    settings = Settings(
        database_url=constancia_database,
        redis_url=redis_url,
        environment="test",
        secret_key="e2e-secret",
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _fits(page: Any, width: int) -> None:
    scroll = await page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide in a {width} px window"


async def _axe(page: Any, name: str, javascript: bool) -> None:
    # axe.run waits on the page's timers, which do not run with JavaScript off: the same flow
    # is checked for accessibility in the run with JavaScript on.
    if javascript:
        await check_accessibility(page, name)


@pytest.mark.parametrize(("width", "javascript"), [(412, False), (1280, False), (412, True)])
async def test_lookup_constancia_and_verification(
    site: str, width: int, javascript: bool, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(
            locale="es-PE",
            viewport={"width": width, "height": 900},
            java_script_enabled=javascript,
            accept_downloads=True,
        )
        page = await context.new_page()
        page.set_default_timeout(30_000)  # a step that cannot happen fails, never hangs
        await page.goto(f"{site}/consulta")
        await page.get_by_label("Número de DNI").fill(DNI)
        await page.get_by_label("Fecha de nacimiento").fill(BIRTH)
        await page.get_by_role("button", name="Consultar").click()
        await page.wait_for_selector("h1:has-text('Sus programas')")
        otros = await page.inner_text("section[aria-labelledby=t-otros]")
        assert "SIS Subsidiado" in otros
        assert "Dónde:" in otros
        await _fits(page, width)
        await _axe(page, f"consulta-otros-{width}", javascript)

        async with page.expect_download() as info:
            await page.get_by_role("button", name="Descargar constancia (PDF)").click()
        download = await info.value
        saved = tmp_path / "constancia.pdf"
        await download.save_as(saved)
        text = PdfReader(saved).pages[0].extract_text()
        assert "*****001" in text
        assert DNI not in text
        match = CODE.search(text)
        assert match, text

        await page.goto(f"{site}/verificar")
        await page.get_by_label("Código de verificación").fill(match.group(0).lower())
        await page.get_by_role("button", name="Verificar").click()
        await page.wait_for_selector("h2:has-text('Constancia auténtica')")
        shown = await page.inner_text("main")
        assert "*****001" in shown
        assert "ROSA H*** C***" in shown
        assert DNI not in shown
        await _fits(page, width)
        await _axe(page, f"verificar-{width}", javascript)

        await page.get_by_label("Código de verificación").fill("CON-0000-0000-0000")
        await page.get_by_role("button", name="Verificar").click()
        await page.wait_for_selector("#codigo-error")
        assert "No encontramos una constancia" in await page.inner_text("#codigo-error")
        await _axe(page, f"verificar-error-{width}", javascript)
        await browser.close()
