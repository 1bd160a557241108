"""Spanish pages for citizens and the public; each module is one area with its own router.

Pages call the same use cases as the REST routers (``api.rest.*``), never the JSON API, and
render errors as plain Spanish next to the field they concern.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)

MESES = (
    "enero febrero marzo abril mayo junio julio agosto setiembre octubre noviembre diciembre"
).split()
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PROGRAMAS = {
    "JUNTOS": "Juntos",
    "PENSION65": "Pensión 65",
    "QALIWARMA": "Qali Warma",
    "CUNAMAS": "Cuna Más",
    "CONTIGO": "Contigo",
    "FISE": "FISE",
    "BECA18": "Beca 18",
    "SIS": "SIS",
}


def fecha(value: date | datetime | str | None) -> str:
    """'2026-03-09' → '9 de marzo de 2026'."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return f"{value.day} de {MESES[value.month - 1]} de {value.year}"


def periodo(value: str | None) -> str:
    """'2026-10' → 'octubre de 2026'; a yearly '2026' stays as is."""
    if not value:
        return ""
    if len(value) >= 7:
        return f"{MESES[int(value[5:7]) - 1]} de {value[:4]}"
    return value


def miles(value: int | None) -> str:
    """12345 → '12 345' (the thin grouping RAE recommends for Spanish)."""
    return "" if value is None else f"{value:,}".replace(",", "\u00a0")


def programa(code: str | None) -> str:
    return PROGRAMAS.get(code or "", code or "")


templates.env.filters.update(fecha=fecha, periodo=periodo, miles=miles, programa=programa)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
