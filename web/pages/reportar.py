"""Reportar un caso: a form that files a report and shows its tracking code.

From a roll entry («Reportar» on /padron) the form knows the person, program and district.
Without one, the district is chosen department → province → district (``web.pages.lugares``,
plain GET reloads; ``rnu.js`` reloads only the form's zone), then the program among the
district's own.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.context import ContextDep
from api.deps import SessionDep
from rnu.errors import InvalidInput, NotFound, RateLimited
from rnu.report.service import MAX_CONTACT, MAX_TEXT
from rnu.roll import service as roll_service
from rnu.ubigeo.reference import by_inei
from usecases import citizen
from usecases.citizen import ReporteIn
from usecases.wording import PROGRAM_SHORT, REPORT_REASONS
from web.pages import NO_STORE, render
from web.pages.lugares import Lugar, elegir

router = APIRouter(include_in_schema=False)

ERRORES = {
    "motivo": "Elija el motivo del reporte.",
    "descripcion": f"Describa el caso (hasta {MAX_TEXT} caracteres).",
    "contacto": f"El contacto puede tener hasta {MAX_CONTACT} caracteres.",
    "ubigeo": "Elija el departamento, la provincia y el distrito del caso.",
    "entrada": "No encontramos esa persona en el padrón. Vuelva al padrón y pulse «Reportar».",
}


async def program_choices(session: Any, lugar: Lugar) -> dict[str, str]:
    """The district's programs (code → short name); every program while it has none loaded."""
    if not lugar.distrito:
        return {}
    present = await roll_service.district_programs(session, ubigeo=lugar.distrito)
    if not present:
        return dict(PROGRAM_SHORT)
    return {p.program_code: PROGRAM_SHORT.get(p.program_code, p.program_name) for p in present}


async def _form(
    request: Request,
    session: Any,
    context: dict[str, Any],
    lugar: Lugar,
    status_code: int = 200,
) -> HTMLResponse:
    base: dict[str, Any] = {
        "titulo": "Reportar un caso",
        "seccion": "reportar",
        "motivos": REPORT_REASONS,
        "programas": await program_choices(session, lugar),
        "lugar": lugar,
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
    session: SessionDep,
    entrada: Annotated[str | None, Query(max_length=16)] = None,
    programa: Annotated[str | None, Query(max_length=20)] = None,
    ubigeo: Annotated[str | None, Query(max_length=6)] = None,
    nombre: Annotated[str | None, Query(max_length=80)] = None,
    departamento: Annotated[str, Query(max_length=2)] = "",
    provincia: Annotated[str, Query(max_length=4)] = "",
    distrito: Annotated[str, Query(max_length=6)] = "",
) -> HTMLResponse:
    lugar = elegir(departamento, provincia, distrito or ubigeo or "")
    v = {
        "entrada": entrada or "",
        "programa": programa or "",
        "ubigeo": lugar.distrito if not entrada else ubigeo or "",
        "nombre": nombre or "",
    }
    return await _form(request, session, {"v": v}, lugar)


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
    lugar = elegir(distrito=ubigeo) if not entrada else Lugar()
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
        return await _form(request, ctx.session, {"v": v, "errores": errores}, lugar, 400)
    if not entrada and (not ubigeo or by_inei(ubigeo) is None):
        errores["ubigeo"] = ERRORES["ubigeo"]
    if not entrada and not descripcion.strip():
        errores["descripcion"] = ERRORES["descripcion"]
    if errores:
        return await _form(request, ctx.session, {"v": v, "errores": errores}, lugar, 400)
    try:
        receipt = await citizen.report(ctx, payload)
    except RateLimited:
        aviso = "Envió muchos reportes en poco tiempo. Intente de nuevo en una hora."
        return await _form(request, ctx.session, {"v": v, "aviso": aviso}, lugar, 429)
    except NotFound:
        errores = {"entrada": ERRORES["entrada"]}
        return await _form(request, ctx.session, {"v": v, "errores": errores}, lugar, 400)
    except InvalidInput:
        errores = {"descripcion": ERRORES["descripcion"]}
        return await _form(request, ctx.session, {"v": v, "errores": errores}, lugar, 400)
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
