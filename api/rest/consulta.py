"""POST /api/v1/consulta: a citizen's own programs, CSE, eligibility and who read their data.

HTTP only: parse the body, call ``usecases.citizen.lookup``, answer with no-store headers.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.context import ContextDep
from api.errors import error_body, error_response
from rnu.errors import InvalidInput, NotFound, RateLimited, StepUpRequired
from usecases import citizen
from usecases.citizen import ConsultaOut
from usecases.wording import STEP_UP_MESSAGE

router = APIRouter(prefix="/api/v1", tags=["consulta"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ConsultaIn(BaseModel):
    """A DNI (8 digits, with or without its check character) and the holder's birth date."""

    model_config = ConfigDict(extra="forbid")

    dni: str = Field(min_length=8, max_length=11, pattern=r"^\s*\d{8}(-?[0-9A-Za-z])?\s*$")
    fecha_nacimiento: str = Field(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")


def refusal(exc: RateLimited | StepUpRequired) -> JSONResponse:
    """A lookup the limits or the DNI's lane refused (also sent by ``api.fastpath``)."""
    if isinstance(exc, RateLimited):
        return error_response(
            "RateLimited", "too many requests", 429, headers={**NO_STORE, **exc.headers}
        )
    body = error_body("StepUpRequired", str(exc))
    body["mensaje"] = STEP_UP_MESSAGE
    return JSONResponse(body, status_code=428, headers=NO_STORE)


@router.post(
    "/consulta",
    response_model=ConsultaOut,
    responses={
        404: {"description": "Unknown DNI or wrong second factor (the same answer for both)"},
        428: {"description": "This DNI saw wrong birth dates: send it with its check character"},
        429: {"description": "Too many lookups from this client, or this DNI's budget is spent"},
    },
)
async def consulta(payload: ConsultaIn, ctx: ContextDep) -> JSONResponse:
    """Your programs, household CSE and its expiry, why you qualify or not, and who read your
    record. An unknown DNI and a wrong birth date get the same answer, status and timing."""
    try:
        body = await citizen.lookup(
            ctx, dni_raw=payload.dni, fecha_nacimiento=payload.fecha_nacimiento
        )
    except (RateLimited, StepUpRequired) as exc:
        return refusal(exc)
    except (NotFound, InvalidInput) as exc:
        name = type(exc).__name__
        return error_response(name, str(exc), 404 if name == "NotFound" else 400, NO_STORE)
    # Returned as is: the body was built (or cached) through the policy models already.
    return JSONResponse(body, headers=NO_STORE)
