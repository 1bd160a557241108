"""Inicio: what RNU is, in plain words, and where to go next."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def inicio(request: Request) -> HTMLResponse:
    return render(request, "inicio/index.html", {"titulo": "Inicio", "seccion": "inicio"})


FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.svg"


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The site's icon, served locally (browsers ask for /favicon.ico whatever the page says)."""
    return FileResponse(
        FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )
