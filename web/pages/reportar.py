"""Reportar un caso: a form that files a report and shows its tracking code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.context import ContextDep
from rnu.errors import InvalidInput, NotFound, RateLimited
from rnu.report.service import MAX_CONTACT, MAX_TEXT
from usecases import citizen
from usecases.citizen import ReporteIn
from usecases.wording import PROGRAM_SHORT, REPORT_REASONS
from web.pages import NO_STORE, render

router = APIRouter(include_in_schema=False)

ERRORES = {
    "motivo": "Elija el motivo del reporte.",
    "descripcion": f"Describa el caso (hasta {MAX_TEXT} caracteres).",
    "contacto": f"El contacto puede tener hasta {MAX_CONTACT} caracteres.",
    "ubigeo": "Escriba el código de 6 números del distrito (ubigeo) o elija uno del padrón.",
    "entrada": "No encontramos esa persona en el padrón. Vuelva al padrón y pulse «Reportar».",
}


def _form(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    base: dict[str, Any] = {
        "titulo": "Reportar un caso",
        "seccion": "reportar",
        "motivos": REPORT_REASONS,
        "programas": PROGRAM_SHORT,
        "errores": {},
        "v": {},
        "max_texto": MAX_TEXT,
        "max_contacto": MAX_CONTACT,
    }
    return render(
        request, "reportar/form.html", base | context, status_code=status_code, headers=NO_STORE
    )


@router.get("/reportar", response_class=HTMLResponse)
async def formulario(
    request: Request,
    entrada: Annotated[str | None, Query(max_length=16)] = None,
    programa: Annotated[str | None, Query(max_length=20)] = None,
    ubigeo: Annotated[str | None, Query(max_length=6)] = None,
    nombre: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    v = {
        "entrada": entrada or "",
        "programa": programa or "",
        "ubigeo": ubigeo or "",
        "nombre": nombre or "",
    }
    return _form(request, {"v": v})


@router.post("/reportar", response_class=HTMLResponse)
async def reportar(
    request: Request,
    ctx: ContextDep,
    motivo: Annotated[str, Form(max_length=40)] = "",
    entrada: Annotated[str, Form(max_length=40)] = "",
    programa: Annotated[str, Form(max_length=40)] = "",
    ubigeo: Annotated[str, Form(max_length=40)] = "",
    nombre: Annotated[str, Form(max_length=120)] = "",
    descripcion: Annotated[str, Form(max_length=MAX_TEXT * 2)] = "",
    contacto: Annotated[str, Form(max_length=MAX_CONTACT * 2)] = "",
) -> HTMLResponse:
    v = {
        "motivo": motivo,
        "entrada": entrada,
        "programa": programa,
        "ubigeo": ubigeo,
        "nombre": nombre,
        "descripcion": descripcion,
        "contacto": contacto,
    }
    errores: dict[str, str] = {}
    try:
        payload = ReporteIn(
            motivo=motivo,  # validated by the model
            entrada=entrada or None,
            programa=programa or None,
            ubigeo=ubigeo or None,
            descripcion=descripcion or None,
            contacto=contacto or None,
        )
    except ValidationError as exc:
        for error in exc.errors():
            loc = str(error["loc"][0]) if error["loc"] else "entrada"
            errores[loc if loc in ERRORES else "entrada"] = ERRORES.get(loc, ERRORES["entrada"])
        return _form(request, {"v": v, "errores": errores}, status_code=400)
    if not entrada and not ubigeo:
        errores["ubigeo"] = ERRORES["ubigeo"]
    if not entrada and not descripcion.strip():
        errores["descripcion"] = ERRORES["descripcion"]
    if errores:
        return _form(request, {"v": v, "errores": errores}, status_code=400)
    try:
        receipt = await citizen.report(ctx, payload)
    except RateLimited:
        return _form(
            request,
            {
                "v": v,
                "aviso": "Envió muchos reportes en poco tiempo. Intente de nuevo en una hora.",
            },
            status_code=429,
        )
    except NotFound:
        return _form(request, {"v": v, "errores": {"entrada": ERRORES["entrada"]}}, status_code=400)
    except InvalidInput:
        return _form(
            request, {"v": v, "errores": {"descripcion": ERRORES["descripcion"]}}, status_code=400
        )
    return render(
        request,
        "reportar/recibido.html",
        {
            "titulo": "Reporte recibido",
            "seccion": "reportar",
            "codigo": receipt.tracking_code,
            "agrupado": receipt.folded,
        },
        headers=NO_STORE,
    )
