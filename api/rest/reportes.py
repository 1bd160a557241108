"""POST /api/v1/reportes and GET /api/v1/reportes/{codigo}: report a case, follow it by code.

HTTP only: the jobs are ``usecases.citizen.report`` and ``usecases.citizen.track``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.context import ContextDep
from usecases import citizen
from usecases.citizen import ReporteCreado, ReporteIn, SeguimientoOut

router = APIRouter(prefix="/api/v1", tags=["reportes"])
NO_STORE = {"Cache-Control": "no-store"}


@router.post("/reportes", response_model=ReporteCreado, status_code=201)
async def crear_reporte(payload: ReporteIn, ctx: ContextDep) -> JSONResponse:
    """Report a possible filtración. Point at a roll entry by its public `entrada` id (never a
    DNI) with its `programa` and `ubigeo`, or describe the case. Answer: a tracking code."""
    receipt = await citizen.report(ctx, payload)
    return JSONResponse(
        citizen.receipt_out(receipt).model_dump(mode="json"),
        status_code=200 if receipt.folded else 201,
        headers=NO_STORE,
    )


@router.get("/reportes/{codigo}", response_model=SeguimientoOut)
async def seguimiento(codigo: str, ctx: ContextDep) -> JSONResponse:
    """The status history of a report, by its tracking code (dashes and case do not matter)."""
    status = await citizen.track(ctx, codigo)
    return JSONResponse(status.model_dump(mode="json"), headers=NO_STORE)
