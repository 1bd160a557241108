"""Inicio: what RNU is, in plain words, and where to go next."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def inicio(request: Request) -> HTMLResponse:
    return render(request, "inicio/index.html", {"titulo": "Inicio", "seccion": "inicio"})
