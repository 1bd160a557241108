"""Issue 13.4 and 13.6 in Debian's Chromium: at 412 px and 1280 px, with JavaScript off and on.

* the citizen's result: "¿Quién revisó sus datos?" names the agency, says why in words, when
  (Lima time) and how many times, one line per reader, purpose and day;
* /reportar: department → province → district (no typed ubigeo), then the district's programs;
  without JavaScript each step is the form's button, with it a choice reloads the zone in place;
* the volunteers' form: district, then a select of its programs; from the roll, the person
  reported is named as the volunteer's roll shows them.

Every page checked must not scroll sideways (``scrollWidth <= innerWidth``) and must be clean
under axe-core's WCAG 2.1 A/AA rules (no violation at all). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import uvicorn

from privacy.masking import dni_hmac
from rnu.agency import service as agency_service
from rnu.audit.models import AuditEvent
from rnu.config import Settings
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.migrate import upgrade
from rnu.staff import service as staff_service
from tests.conftest import drop_test_database, make_test_database
from tests.e2e.test_public_browser import ARGS, ARTIFACTS, AXE, CHROMIUM, _free_port
from tests.factories import create_batch, create_enrollment, create_household, create_person

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian package chromium)"),
]

SECRET = "e2e-secret-13"
DNI, BIRTH = "30000001", "09/03/1950"
VOLUNTEER, PASSWORD = "vigilante.cusco", "clave-vigilante-2026"
PUBLIC_NAME = "Fondo de Inclusión Social Energético (FISE)"
WIDTHS = (412, 1280)
REASONS = {
    "412px-nojs": "La persona falleció",
    "412px-js": "No vive en el distrito",
    "1280px-nojs": "No es pobre / tiene bienes",
    "1280px-js": "Recibe una pensión",
}


@dataclass(frozen=True)
class Site:
    url: str


@pytest.fixture(scope="module")
def e2e13_database(server_url: str) -> Iterator[str]:
    url = make_test_database(server_url, prefix="rnu_e2e13")
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
            people = [("ROSA", "HUAMAN", "CCORI", DNI), ("JUAN", "QUISPE", "MAMANI", "30000002")]
            for nombres, paterno, materno, dni in people:
                household = await create_household(session, ubigeo="080101", cse="PE")
                person = await create_person(
                    session, household=household, ubigeo="080101", doc_number=dni,
                    nombres=nombres, apellido_paterno=paterno, apellido_materno=materno,
                    birth_on=date(1950, 3, 9),
                )  # fmt: skip
                await create_enrollment(
                    session, person=person, batch=batch, ubigeo="080101", household_id=household.id
                )
            issued = await agency_service.add_client(
                session, agency="FISE-OSINERGMIN", scopes=["person:read"], public_name=PUBLIC_NAME
            )
            me = dni_hmac(SECRET.encode(), DNI)
            start = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in Lima
            for i in range(13):
                session.add(AuditEvent(
                    at=start + timedelta(minutes=7 * i), actor_kind="analyst",
                    actor_id="analyst:ana", action="flag.view", purpose="revisar_alerta",
                    subject_hmac=me,
                ))  # fmt: skip
            session.add(AuditEvent(
                at=datetime(2026, 12, 2, 20, 30, tzinfo=UTC), actor_kind="agency",
                actor_id=f"agency:{issued.client.id}:FISE-OSINERGMIN", action="graphql",
                purpose="elegibilidad", subject_hmac=me,
            ))  # fmt: skip
            await staff_service.create_user(
                session, username=VOLUNTEER, role="volunteer", password=PASSWORD,
                organisation="Comité de Vigilancia de Cusco", districts=["080101", "150101"],
            )  # fmt: skip
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def site(e2e13_database: str, redis_url: str) -> AsyncIterator[Site]:
    await _seed(e2e13_database)
    from web.app import create_app

    settings = Settings(
        database_url=e2e13_database, redis_url=redis_url, environment="test", secret_key=SECRET
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=_free_port(), log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # uvicorn offers no start event; poll its flag for up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Site(f"http://127.0.0.1:{port}")
    server.should_exit = True
    await task


@pytest.fixture(
    params=[(w, js) for w in WIDTHS for js in (False, True)],
    ids=lambda p: f"{p[0]}px-{'js' if p[1] else 'nojs'}",
)
async def page(request: pytest.FixtureRequest, site: Site) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    width, js = request.param
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(
            locale="es-PE",
            viewport={"width": width, "height": 900},
            java_script_enabled=js,
        )
        page = await context.new_page()
        page.set_default_timeout(15_000)
        page.js = js  # type: ignore[attr-defined]
        page.label = f"{width}px-{'js' if js else 'nojs'}"  # type: ignore[attr-defined]
        yield page
        await browser.close()


async def check(page: Any, name: str) -> None:
    """No sideways scrolling, and axe-core finds no WCAG 2.1 A/AA violation.

    With JavaScript off, axe cannot run in the page itself (it awaits timers, which never fire
    there): the page's HTML is rendered as it is in a second tab, with its stylesheets from the
    site and ``rnu.js`` blocked, and measured there.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"13-{name}-{page.label}.png"), full_page=True)
    target = page
    if not page.js:
        target = await _rendered_with_scripts_off(page)
    widths = await target.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name}: the page is {widths[0]} px wide in {widths[1]} px"
    if not AXE.exists():
        pytest.skip("axe-core is not installed and npm could not install it")
    # Over DevTools, not a <script> tag: the CSP (script-src 'self') refuses injected scripts.
    await target.evaluate(AXE.read_text(encoding="utf-8"))
    result = await target.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    if target is not page:
        await target.context.close()
    bad = result["violations"]
    assert not bad, json.dumps(
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
         for v in bad], indent=1
    )  # fmt: skip


async def _rendered_with_scripts_off(page: Any) -> Any:
    """A JavaScript-enabled tab showing ``page``'s HTML exactly, its own scripts not loaded."""
    html = await page.content()
    origin = page.url.split("/", 3)[:3]
    here = "/".join(origin) + "/__como-sin-js__"
    context = await page.context.browser.new_context(locale="es-PE", viewport=page.viewport_size)
    tab = await context.new_page()

    async def route(r: Any) -> None:
        if r.request.url == here:
            await r.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif r.request.url.endswith(".js"):
            await r.abort()
        else:
            await r.continue_()

    await tab.route("**/*", route)
    await tab.goto(here)
    return tab


async def choose(page: Any, label: str, value: str, button: str, then: str) -> None:
    """Pick an option; without JavaScript press the form's button; wait for ``then``."""
    await page.get_by_label(label, exact=True).select_option(value)
    if not page.js:
        await page.get_by_role("button", name=button).click()
    await page.wait_for_selector(then)


async def test_who_read_my_data(site: Site, page: Any) -> None:
    await page.goto(f"{site.url}/consulta")
    await page.get_by_label("Número de DNI").fill(DNI)
    await page.get_by_label("Fecha de nacimiento").fill(BIRTH)
    await page.get_by_role("button", name="Consultar").click()
    await page.wait_for_selector("h1:has-text('Sus programas')")
    lines = await page.locator("ul.accesos > li").all_inner_texts()
    text = [" ".join(line.split()) for line in lines]
    assert text == [
        f"{PUBLIC_NAME} · Entidad del Estado "
        "Para qué: Verificar si usted cumple los requisitos de un programa "
        "Cuándo: 2 de diciembre de 2026, 15:30",
        "Analista del RNU Para qué: Revisar una alerta sobre su registro "
        "Cuándo: 1 de diciembre de 2026, de 09:00 a 10:24 (13 veces)",
    ]
    assert "agency:" not in await page.content()
    await check(page, "consulta-accesos")


async def test_report_by_place(site: Site, page: Any) -> None:
    await page.goto(f"{site.url}/reportar")
    assert await page.locator("input[name=ubigeo][type=text]").count() == 0
    await check(page, "reportar-inicio")
    await choose(page, "Departamento", "08", "Ver las provincias", "#provincia")
    await choose(page, "Provincia", "0801", "Ver los distritos", "#distrito")
    await check(page, "reportar-provincia")
    await choose(page, "Distrito", "080101", "Elegir este distrito", "#programa")
    if page.js:  # reloaded in place: the address follows, the steps' buttons are not needed
        assert "distrito=080101" in page.url
        assert not await page.get_by_role("button", name="Elegir este distrito").is_visible()
    programs = await page.locator("#programa option").all_inner_texts()
    assert programs == ["No sé", "Pensión 65"]
    await check(page, "reportar-caso")
    await page.get_by_label("Programa", exact=True).select_option("PENSION65")
    # One reason per run: the same report again from the same connection is folded (no code).
    await page.get_by_label(REASONS[page.label]).check()
    await page.get_by_label("Cuéntenos el caso").fill("Vive en Lima desde hace dos años.")
    await page.get_by_role("button", name="Enviar reporte").click()
    await page.wait_for_selector("#codigo")
    await check(page, "reportar-recibido")


async def test_volunteer_reports_from_the_district(site: Site, page: Any) -> None:
    await page.goto(f"{site.url}/voluntarios/ingresar")
    await page.get_by_label("Usuario").fill(VOLUNTEER)
    await page.get_by_label("Contraseña").fill(PASSWORD)
    await page.get_by_role("button", name="Ingresar").click()
    await page.wait_for_url(f"{site.url}/voluntarios")
    await page.goto(f"{site.url}/voluntarios/reportar")
    assert await page.locator("#programa").count() == 0
    await choose(page, "Distrito", "080101", "Ver los programas del distrito", "#programa")
    assert await page.locator("#programa option").all_inner_texts() == ["Pensión 65"]
    await check(page, "voluntario-reportar")
    await page.goto(f"{site.url}/voluntarios/padron?ubigeo=080101&programa=PENSION65")
    await page.get_by_role("link", name="Reportar", exact=True).first.click()
    await page.wait_for_selector("#reportado")
    assert "ROSA HUAMAN CCORI" in await page.inner_text("#reportado")
    assert DNI not in await page.content()
    await check(page, "voluntario-reportado")
