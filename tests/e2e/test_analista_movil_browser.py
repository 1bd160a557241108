"""The analyst pages at 412 px and 1280 px in Debian's Chromium: no page wider than the
screen, axe-clean, and a bulk dismissal done by ticking flags (issue 13.8 and 13.9).

A supervisor logs in with password and TOTP code, as the pages ask. The app is served by
uvicorn on a free local port, on this module's own database (rows are committed: the
server's connections cannot see a rolled-back test transaction).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel.ext.asyncio.session import AsyncSession

from api.state import AppState
from rnu.batch.models import LoadBatch
from rnu.config import Settings
from rnu.db import session_scope
from rnu.enrollment.models import Enrollment, RollRow
from rnu.flag.models import Flag
from rnu.person.models import Person
from rnu.staff import service as staff_service
from rnu.staff import totp
from tests.e2e.test_analista_browser import ARGS, ARTIFACTS, CHROMIUM, free_port

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "clave-navegador-movil-2026"
SECRET = "e2e-analista-movil-secret"
WIDTHS = (412, 1280)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian package chromium)"),
]


@pytest.fixture
def app_state(isolated_app_state: AppState) -> AppState:
    return isolated_app_state


@pytest.fixture
def session(isolated_session: AsyncSession) -> AsyncSession:
    return isolated_session


async def _seed(app_state: AppState, suffix: str) -> dict[str, Any]:
    """A supervisor (TOTP), people in Lima and Piura, Juntos in two months, flags as the
    checks write them (evidence with facts and rule version), linked rows with agreements."""
    async with session_scope(app_state.sessionmaker) as session:
        user = await staff_service.create_user(
            session, username=f"supervisora.{suffix}", role="supervisor", password=PASSWORD
        )
        enrolment = await totp.enrol(session, username=user.username, server_secret=SECRET.encode())
        people = [
            Person(
                nombres=f"FELICITA {suffix.upper()}",
                apellido_paterno="HUAMAN",
                apellido_materno="ROJAS",
                doc_type="DNI",
                doc_number=f"7011{n:02d}{len(suffix):02d}",
                ubigeo=ubigeo,
                in_pgh=False,
            )  # fmt: skip
            for n, ubigeo in enumerate(("150101", "200101", "200601"))
        ]
        session.add_all(people)
        await session.flush()
        flag_ids = []
        for month in ("2026-09", "2026-10"):
            batch = LoadBatch(
                source="JUNTOS", period=month, file_name=f"juntos_{month}_{suffix}.csv",
                sha256=f"{suffix}{month}".encode().hex().ljust(64, "0")[:64], status="committed",
            )  # fmt: skip
            session.add(batch)
            await session.flush()
            for n, person in enumerate(people):
                assert batch.id is not None and person.id is not None  # noqa: PT018
                row = RollRow(
                    batch_id=batch.id, row_number=str(n + 2), person_id=person.id,
                    outcome="linked", method="fuzzy", weight=13.4, nombres=person.nombres,
                    apellido_paterno="HUAMAN", full_name=f"HUAMAN, {person.nombres}",
                    agreements={"paterno": "exact", "nombres": "one_edit", "birth_date": "missing"},
                )  # fmt: skip
                session.add(row)
                await session.flush()
                assert row.id is not None
                session.add(
                    Enrollment(
                        person_id=person.id,
                        program_code="JUNTOS",
                        period=month,
                        batch_id=batch.id,
                        roll_row_id=row.id,
                        match_method="fuzzy",
                        match_weight=13.4,
                        ubigeo=person.ubigeo,
                    )  # fmt: skip
                )
                flag = Flag(
                    kind="not_in_pgh", severity="medium", subject_key=f"m:{suffix}:{month}:{n}",
                    person_id=person.id, program_code="JUNTOS", period=month,
                    ubigeo=person.ubigeo, roll_row_id=row.id,
                    evidence={"rule": "in_pgh", "code": "not_in_pgh",
                              "rule_version": "2005-04", "facts": {"in_pgh": False}},
                )  # fmt: skip
                session.add(flag)
                await session.flush()
                flag_ids.append(flag.id)
    return {"username": user.username, "totp": enrolment.secret, "flags": flag_ids}


@pytest.fixture
async def server(app_state: AppState, tmp_path: Path) -> AsyncIterator[str]:
    from web.app import create_app

    settings = Settings(environment="test", data_dir=tmp_path, secret_key=SECRET)
    state = replace(app_state, settings=settings)
    port = free_port()
    config = uvicorn.Config(
        create_app(state=state), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    for _ in range(200):
        if srv.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await task


async def _login(page: Any, server: str, seeded: dict[str, Any]) -> None:
    await page.goto(f"{server}/analista/ingresar")
    await page.get_by_label("Usuario").fill(seeded["username"])
    await page.get_by_label("Contraseña").fill(PASSWORD)
    await page.get_by_label("Código de verificación (6 dígitos)").fill(
        totp.current_code(seeded["totp"])
    )
    await page.get_by_role("button", name="Ingresar").click()
    await page.wait_for_load_state()
    assert page.url == f"{server}/analista", await page.inner_text("main")


async def _overflow(page: Any) -> int:
    """How many px the page is wider than the window (0: it fits)."""
    width = await page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    return int(width) - int(await page.evaluate("() => window.innerWidth"))


async def _axe(page: Any) -> list[dict[str, Any]]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed and npm could not install it")
    # Over the DevTools protocol: the pages' CSP rightly refuses an injected inline script.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_pages_fit_the_screen_and_are_accessible(app_state: AppState, server: str) -> None:
    from playwright.async_api import async_playwright

    seeded = await _seed(app_state, "ancho")
    flag = seeded["flags"][-1]
    paths = {
        "cola": "/analista",
        "alerta": f"/analista/alertas/{flag}?finalidad=revisar_alerta",
        "revision": "/analista/revision",
        "tablero": "/analista/tablero",
        "tablero-piura": "/analista/tablero?departamento=20&provincia=2006",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, Any] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # One login (a TOTP code serves once), then each width on the same page.
            context = await browser.new_context(
                locale="es-PE", viewport={"width": WIDTHS[0], "height": 900}
            )
            page = await context.new_page()
            await _login(page, server, seeded)
            for width in WIDTHS:
                await page.set_viewport_size({"width": width, "height": 900})
                for name, path in paths.items():
                    await page.goto(f"{server}{path}")
                    await page.screenshot(
                        path=str(ARTIFACTS / f"analista-{name}-{width}.png"), full_page=True
                    )
                    if (extra := await _overflow(page)) > 0:
                        problems[f"{name}@{width} overflow px"] = extra
                    if bad := await _axe(page):
                        problems[f"{name}@{width} axe"] = bad
                text = await page.inner_text("main")
                assert "Provincia de Sullana (Piura)" in text
                assert "Todo el país" not in text
        finally:
            await browser.close()
    assert not problems, json.dumps(problems, indent=1)


async def test_bulk_dismiss_by_ticking_on_a_phone(app_state: AppState, server: str) -> None:
    from playwright.async_api import async_playwright

    seeded = await _seed(app_state, "lote")
    first, second = seeded["flags"][-2:]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(
                locale="es-PE", viewport={"width": 412, "height": 900}
            )
            page = await context.new_page()
            await _login(page, server, seeded)
            await page.goto(f"{server}/analista?programa=JUNTOS&periodo=2026-10")
            await page.get_by_label(f"Marcar la alerta {first}", exact=True).check()
            await page.get_by_label(f"Marcar la alerta {second}", exact=True).check()
            await page.get_by_label("Acción", exact=True).select_option("dismiss")
            await page.get_by_label("Motivo (obligatorio para descartar; nota al confirmar)").fill(
                "Figuran en el PGH con su CUI (verificado)."
            )
            await page.get_by_role("button", name="Aplicar").click()
            await page.wait_for_load_state()
            assert "Acción aplicada a 2 alertas." in await page.inner_text("main")
            await page.screenshot(path=str(ARTIFACTS / "analista-lote-412.png"), full_page=True)
            await page.goto(f"{server}/analista/alertas/{first}?finalidad=revisar_alerta")
            assert await page.locator("#estado").inner_text() == "Descartada"
            await page.goto(f"{server}/analista?programa=JUNTOS&periodo=2026-10")
            ticked = await page.locator("input[name=alerta]").evaluate_all(
                "boxes => boxes.map(b => Number(b.value))"
            )
            assert first not in ticked  # dismissed: out of the open queue
            assert second not in ticked
            assert seeded["flags"][-3] in ticked  # the one left unticked is still open
        finally:
            await browser.close()


async def test_pages_fit_and_work_without_javascript(app_state: AppState, server: str) -> None:
    """The same pages with JavaScript off (the pages need none): they render, fit 412 px and
    1280 px, and the bulk form is there for a supervisor. Width is measured over DevTools,
    which runs even when the page's own scripts may not."""
    from playwright.async_api import async_playwright

    seeded = await _seed(app_state, "sinjs")
    flag = seeded["flags"][-1]
    paths = {
        "cola": ("/analista", "Aplicar"),
        "alerta": (f"/analista/alertas/{flag}?finalidad=revisar_alerta", "Estado"),
        "revision": ("/analista/revision", "Revisión"),
        "tablero": ("/analista/tablero?departamento=20&provincia=2006", "Sullana"),
    }
    problems: dict[str, Any] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            login = await browser.new_context(locale="es-PE")
            page = await login.new_page()
            await _login(page, server, seeded)
            state = await login.storage_state()
            await login.close()
            context = await browser.new_context(
                locale="es-PE",
                java_script_enabled=False,
                storage_state=state,
                viewport={"width": WIDTHS[0], "height": 900},
            )
            page = await context.new_page()
            for width in WIDTHS:
                await page.set_viewport_size({"width": width, "height": 900})
                for name, (path, expected) in paths.items():
                    await page.goto(f"{server}{path}")
                    text = await page.inner_text("body")
                    if expected not in text:
                        problems[f"{name}@{width} missing"] = expected
                    if (extra := await _overflow(page)) > 0:
                        problems[f"{name}@{width} overflow px"] = extra
        finally:
            await browser.close()
    assert not problems, json.dumps(problems, indent=1)
