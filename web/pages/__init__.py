"""Spanish pages for citizens and the public; each module is one area with its own router.

Pages call the same use cases (``usecases.*``) as the REST routes, never a route module, and
render errors as plain Spanish next to the field they concern.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from usecases import wording

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

templates.env.filters.update(
    fecha=wording.fecha_larga,
    periodo=wording.periodo,
    miles=wording.miles,
    programa=wording.program_short,
    veces=wording.veces,
)


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
