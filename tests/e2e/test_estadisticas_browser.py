"""/estadisticas in a real Chromium at 412 px and 1280 px, with and without JavaScript.

The page must not scroll sideways, every chart and map text must render at 12 px or more
(as laid out: SVG text in a scaled viewBox rendered at ~7 px while its computed size said 12),
and axe must find nothing serious.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from rnu.config import Settings
from rnu.db import make_engine, make_sessionmaker, session_scope
from tests.e2e.test_accesos_reportar_browser import _rendered_with_scripts_off
from tests.e2e.test_public_browser import (
    ARGS,
    CHROMIUM,
    _free_port,
    check_accessibility,
    e2e_database,
)
from tests.factories import (
    create_batch,
    create_enrollment,
    create_flag,
    create_household,
    create_person,
)

if TYPE_CHECKING:
    from playwright.async_api import ViewportSize

__all__ = ["e2e_database"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian package chromium)"),
]

VIEWPORTS: dict[str, ViewportSize] = {
    "telefono": {"width": 412, "height": 915},
    "escritorio": {"width": 1280, "height": 800},
}

# Every rendered text of the charts and maps: the smallest font size it is drawn at, in CSS
# pixels of the page (an SVG <text>'s size times its viewBox scale; HTML text as computed).
SMALLEST_TEXT = """
() => {
  const sizes = [];
  for (const root of document.querySelectorAll('figure.grafico, figure.mapa')) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.textContent.trim() || !el.getClientRects().length) continue;
      if (el.closest('.oculto')) continue;  // visually hidden, read by screen readers only
      let size = parseFloat(getComputedStyle(el).fontSize);
      if (el instanceof SVGElement) size *= el.getScreenCTM().a;
      sizes.push([size, node.textContent.trim().slice(0, 30)]);
    }
  }
  sizes.sort((a, b) => a[0] - b[0]);
  return {count: sizes.length, smallest: sizes.slice(0, 3)};
}
"""


async def _seed(database_url: str) -> None:
    """Users in four departments (Arequipa's below k), filtración and subcobertura flags."""
    engine = make_engine(database_url, pool_size=2, role="e2e-seed")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            batch = await create_batch(session, source="PENSION65", period="2026-10")
            for ubigeo, n in {"080101": 7, "150101": 30, "200101": 12, "040101": 2}.items():
                for i in range(n):
                    household = await create_household(session, ubigeo=ubigeo, cse="PE")
                    person = await create_person(
                        session, household=household, ubigeo=ubigeo, doc_type=None,
                        doc_number=None, nombres=f"PERSONA{i}", apellido_paterno="LOPEZ",
                        apellido_materno="DIAZ", birth_on=date(1950, 3, 9),
                    )  # fmt: skip
                    await create_enrollment(
                        session, person=person, batch=batch, ubigeo=ubigeo,
                        household_id=household.id,
                    )  # fmt: skip
            flags = {
                ("deceased", "150101"): 8,
                ("deceased", "080101"): 6,
                ("subcobertura_juntos", "080101"): 9,
                ("subcobertura_juntos", "080102"): 2,
                ("subcobertura_juntos", "080201"): 7,
            }
            for (kind, ubigeo), n in flags.items():
                for _ in range(n):
                    await create_flag(session, kind=kind, ubigeo=ubigeo)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def site_url(e2e_database: str, redis_url: str) -> AsyncIterator[str]:
    await _seed(e2e_database)
    from web.app import create_app

    settings = Settings(
        database_url=e2e_database, redis_url=redis_url, environment="test", secret_key="e2e"
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
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.mark.parametrize("javascript", [True, False], ids=["con-js", "sin-js"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_statistics_fit_and_read_on_every_screen(
    site_url: str, viewport: str, javascript: bool
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(
            locale="es-PE", viewport=VIEWPORTS[viewport], java_script_enabled=javascript
        )
        page: Any = await context.new_page()
        try:
            for path, name in (
                ("/estadisticas", "estadisticas"),
                ("/estadisticas?departamento=08", "estadisticas-cusco"),
            ):
                await page.goto(f"{site_url}{path}")
                # Without JavaScript axe cannot run in the page (its timers never fire): the
                # same HTML is measured in a second tab with the site's scripts blocked.
                target = page if javascript else await _rendered_with_scripts_off(page)
                width = await target.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert width[0] <= width[1], f"{path} at {viewport}: {width[0]} > {width[1]} px"
                text = await target.evaluate(SMALLEST_TEXT)
                assert text["count"] > 25, path
                assert text["smallest"][0][0] >= 12, f"{path} at {viewport}: {text['smallest']}"
                await check_accessibility(
                    target, f"{name}-{viewport}-{'js' if javascript else 'sinjs'}"
                )
                if target is not page:
                    await target.context.close()
            await page.goto(f"{site_url}/estadisticas")
            assert await page.locator("figure.mapa").count() == 3
            assert await page.locator("#m-cob-t ~ ol li.tesela").count() == 25
            tile = page.locator('#m-cob-t ~ ol li[data-codigo="04"] .v')
            assert (await tile.inner_text()).strip() == "reservado"
            box = await page.locator("#m-cob-t ~ ol").bounding_box()
            assert box is not None
            assert box["width"] <= VIEWPORTS[viewport]["width"]
            await page.goto(f"{site_url}/estadisticas?departamento=08")
            cell = page.locator('#subcobertura-distritos tr[data-ubigeo="080102"] td.num')
            assert (await cell.inner_text()).strip() == "reservado"
        finally:
            await browser.close()
