"""GET /api/v1/padrones: a program's masked roll in one district and period, searchable, paged.

HTTP only: the job is ``usecases.public.roll``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.context import ContextDep
from privacy.roles import Role
from usecases import public
from usecases.public import PadronOut, PadronQuery

router = APIRouter(prefix="/api/v1", tags=["padrones"])
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


@router.get("/padrones", response_model=PadronOut)
async def padrones(params: Annotated[PadronQuery, Query()], ctx: ContextDep) -> JSONResponse:
    """The masked roll of one program in one district (latest period unless `periodo`),
    searchable by first name and surname initials (`q=JUAN Q M`), 25 entries a page."""
    await public.public_hit(ctx)
    body = await public.roll(
        ctx,
        programa=params.programa,
        ubigeo=params.ubigeo,
        periodo=params.periodo,
        q=params.q,
        page=params.page,
    )
    # Volunteers see full names: their pages must not sit in shared caches.
    headers = PUBLIC_CACHE if ctx.caller.role is Role.PUBLIC else {"Cache-Control": "no-store"}
    return JSONResponse(body, headers=headers)
