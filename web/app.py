"""The whole site: the API app with the Spanish pages mounted last, at `/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api.app import create_app as create_api_app
from api.state import AppState
from rnu.config import Settings

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    app = create_api_app(settings, state)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def inicio(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "inicio.html", {"titulo": "Inicio"})

    return app
