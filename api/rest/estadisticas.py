"""GET /api/v1/estadisticas: users per program and area, integrity flags per area, suppressed.

HTTP only: the job is ``usecases.public.statistics`` (every table through
``privacy.suppression.suppress`` with its margins).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.context import ContextDep
from usecases import public
from usecases.public import EstadisticasOut, EstadisticasQuery

router = APIRouter(prefix="/api/v1", tags=["estadisticas"])
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


@router.get("/estadisticas", response_model=EstadisticasOut)
async def estadisticas(
    params: Annotated[EstadisticasQuery, Query()], ctx: ContextDep
) -> JSONResponse:
    """Users per program by department, province or district (each program at its latest
    period unless `periodo`), and open integrity flags (filtración and subcobertura), with
    small cells suppressed (k = 5, 10 for disability and child programs)."""
    await public.public_hit(ctx)
    body = await public.statistics(
        ctx,
        nivel=params.nivel,
        padre=params.padre,
        periodo=params.periodo,
        programa=params.programa,
    )
    return JSONResponse(body.model_dump(mode="json"), headers=PUBLIC_CACHE)
