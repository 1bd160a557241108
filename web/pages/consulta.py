"""Consulta tus programas: DNI + birth date → your programs, CSE, why, and who read your data."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.context import ContextDep
from rnu.errors import InvalidInput, NotFound, RateLimited, StepUpRequired
from usecases import citizen
from usecases.wording import STEP_UP_MESSAGE
from web.pages import NO_STORE, constancia, render

router = APIRouter(include_in_schema=False)

_DNI = re.compile(r"^\d{8}(-?[0-9A-Za-z])?$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YMD = re.compile(r"^\d{4}-\d{2}-\d{2}$")

ERR_DNI = "Escriba los 8 números de su DNI (puede agregar el dígito verificador)."
ERR_FECHA = "Escriba su fecha de nacimiento como día/mes/año, por ejemplo 09/03/1950."
ERR_NO_MATCH = (
    "No encontramos a una persona con ese DNI y esa fecha de nacimiento. Revise los dos datos. "
    "Si son correctos, es posible que usted no figure en ningún padrón."
)
ERR_LIMIT = (
    "Se hicieron demasiadas consultas desde su conexión o con este DNI. "
    "Por su seguridad, espere unos minutos antes de intentarlo de nuevo."
)


def _iso_date(raw: str) -> str | None:
    raw = raw.strip()
    if _YMD.match(raw):
        return raw
    m = _DMY.match(raw)
    if m:
        day, month, year = m.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return None


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    base = {"titulo": "Consulta tus programas", "seccion": "consulta", "errores": {}}
    return render(
        request, "consulta/form.html", base | context, status_code=status_code, headers=NO_STORE
    )


@router.get("/consulta", response_class=HTMLResponse)
async def formulario(request: Request) -> HTMLResponse:
    return _page(request, {})


@router.post("/consulta", response_class=HTMLResponse)
async def consultar(
    request: Request,
    ctx: ContextDep,
    dni: Annotated[str, Form(max_length=20)] = "",
    fecha_nacimiento: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    errores: dict[str, str] = {}
    dni_clean = dni.strip().replace(" ", "")
    if not _DNI.match(dni_clean):
        errores["dni"] = ERR_DNI
    fecha_iso = _iso_date(fecha_nacimiento)
    if fecha_iso is None:
        errores["fecha_nacimiento"] = ERR_FECHA
    # The DNI is never echoed back into the page: a shared computer's next user must not see it.
    if errores:
        return _page(request, {"errores": errores}, status_code=400)
    assert fecha_iso is not None
    try:
        body = await citizen.lookup(ctx, dni_raw=dni_clean, fecha_nacimiento=fecha_iso)
    except RateLimited:
        return _page(request, {"aviso": ERR_LIMIT}, status_code=429)
    except StepUpRequired:
        return _page(request, {"errores": {"dni": STEP_UP_MESSAGE}}, status_code=428)
    except InvalidInput as exc:
        field = "fecha_nacimiento" if "fecha" in str(exc) else "dni"
        msg = (
            ERR_FECHA
            if field == "fecha_nacimiento"
            else (
                "El dígito verificador no corresponde a ese DNI. "
                "Revíselo o escriba solo los 8 números."
            )
        )
        return _page(request, {"errores": {field: msg}}, status_code=400)
    except NotFound:
        return _page(request, {"aviso": ERR_NO_MATCH}, status_code=404)
    extra, ticket = await constancia.result_context(ctx, body)
    response = render(
        request,
        "consulta/resultado.html",
        {"titulo": "Sus programas", "seccion": "consulta", "r": body} | extra,
        headers=NO_STORE,
    )
    constancia.set_flow_cookie(response, ticket, ctx.settings)
    return response
