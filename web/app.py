"""The whole site: the API app with the Spanish pages mounted last, at `/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api import errors as api_errors
from api.app import create_app as create_api_app
from api.state import AppState
from rnu.config import Settings
from web.errors import error_page

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def _include_staff_pages(app: FastAPI) -> None:
    from web.pages import analista, voluntarios

    analista.install(app)
    app.include_router(voluntarios.router)


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    app = create_api_app(settings, state)
    api_errors.use_html(app, error_page)  # browsers get the site's one Spanish error page
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _include_staff_pages(app)
    from web.pages import (
        constancia,
        consulta,
        datos_abiertos,
        estadisticas,
        inicio,
        padron,
        reportar,
        seguimiento,
    )

    for page in (
        inicio,
        consulta,
        constancia,
        padron,
        reportar,
        seguimiento,
        estadisticas,
        datos_abiertos,
    ):
        app.include_router(page.router)
    return app
