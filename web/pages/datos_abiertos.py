"""Datos abiertos: the downloadable datasets, their dictionary and licence."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from usecases.public import DICCIONARIO, catalogue
from web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/datos-abiertos", response_class=HTMLResponse)
async def datos_abiertos(request: Request) -> HTMLResponse:
    return render(
        request,
        "datos_abiertos/index.html",
        {
            "titulo": "Datos abiertos",
            "seccion": "datos_abiertos",
            "catalogo": catalogue(),
            "diccionario": DICCIONARIO,
        },
        headers={"Cache-Control": "public, max-age=3600"},
    )
