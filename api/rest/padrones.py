"""GET /api/v1/padrones: a program's masked roll in one district and period, searchable, paged."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import CallerDep, SessionDep, StateDep
from api.ratelimit import ClientAddressDep, LimiterDep
from api.state import AppState
from privacy import masking
from privacy.policy import ADULT_AGE, RollEntryOut, RollEntryView, roll_page
from privacy.programs import is_child_program, is_disability_program
from privacy.roles import Caller, Role
from privacy.suppression import SENSITIVE_K
from rnu.cache import ROLL_TTL_S, cache_for, digest, roll_key
from rnu.period import PATTERN as PERIOD_PATTERN
from rnu.period import Period
from rnu.roll import service as roll_service
from rnu.roll.models import RollSlice
from rnu.ubigeo.reference import by_inei

router = APIRouter(prefix="/api/v1", tags=["padrones"])
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


class PadronQuery(BaseModel):
    """Query of a roll page; unknown parameters are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    programa: str = Field(min_length=2, max_length=20, pattern=r"^[A-Za-z0-9_]+$")
    ubigeo: str = Field(pattern=r"^\d{6}$")
    periodo: str | None = Field(default=None, pattern=PERIOD_PATTERN)
    q: str | None = Field(default=None, max_length=60)
    page: int = Field(default=1, ge=1, le=roll_service.MAX_PAGE)


class PadronOut(BaseModel):
    programa: str
    ubigeo: str
    departamento: str
    provincia: str
    distrito: str
    periodo: str
    pagina: int
    paginas: int
    total_listados: int
    # Minors and Contigo users are never listed, only counted; None: 1..k-1, too few to say.
    no_listados: int | None
    entradas: list[RollEntryOut]


def adult_on(period: str) -> date:
    """The latest birth date of someone already 18 on the first day of ``period``."""
    first = Period.parse(period).first_day
    return first.replace(year=first.year - ADULT_AGE)


def _views(slice_: RollSlice, secret: bytes) -> list[RollEntryView]:
    return [
        RollEntryView.build(
            secret,
            enrollment_key=e.entry_key,
            dni=e.dni,
            nombres=e.nombres,
            apellido_paterno=e.apellido_paterno,
            apellido_materno=e.apellido_materno,
            birth_date=e.birth_on,
            sex=e.sex,
            ubigeo=e.ubigeo,
            program=e.program_code,
            period=e.period,
        )
        for e in slice_.entries
    ]


async def roll_body(
    session: AsyncSession,
    state: AppState,
    caller: Caller,
    *,
    programa: str,
    ubigeo: str,
    periodo: str | None,
    q: str | None,
    page: int,
) -> dict[str, Any]:
    """One roll page as the caller may see it, cached per data version and role.

    Shared by REST and the web page; the privacy layer decides who is listed (SQL only
    executes that choice) and masks every listed entry.
    """
    programa = programa.upper()
    secret = state.settings.secret_key.get_secret_value().encode()
    cache = cache_for(state.redis)
    version = await state.data_version.current(session)
    key = None
    if not caller.districts:  # per-volunteer pages differ by district: not shared in cache
        key = roll_key(
            version,
            caller.role.value,
            program=programa,
            ubigeo=ubigeo,
            period=periodo or "latest",
            q_digest=digest(secret, "q", (q or "").strip().upper()),
            page=page,
        )
        cached = await cache.get_json(key)
        if cached is not None:
            return dict(cached)
    protected_program = is_disability_program(programa) or is_child_program(programa)
    slice_ = await roll_service.list_roll(
        session,
        program_code=programa,
        ubigeo=ubigeo,
        period=periodo,
        q=q,
        page=page,
        adult_on=adult_on,
        count_only=protected_program,
    )
    shown = roll_page(_views(slice_, secret), caller, k=1)
    hidden = slice_.not_listed + (len(slice_.entries) - len(shown.entries))
    place = by_inei(ubigeo)
    body = PadronOut(
        programa=programa,
        ubigeo=ubigeo,
        departamento=place.departamento if place else "",
        provincia=place.provincia if place else "",
        distrito=place.distrito if place else "",
        periodo=slice_.period,
        pagina=slice_.page,
        paginas=slice_.pages,
        total_listados=slice_.listed_total,
        no_listados=None if 0 < hidden < SENSITIVE_K else hidden,
        entradas=list(shown.entries),
    ).model_dump(mode="json", exclude_none=False)
    if key is not None:
        await cache.set_json(key, body, ROLL_TTL_S)
    return body


def entry_id_of(state: AppState) -> Any:
    secret = state.settings.secret_key.get_secret_value().encode()
    return lambda key: masking.entry_id(secret, key)


@router.get("/padrones", response_model=PadronOut)
async def padrones(
    params: Annotated[PadronQuery, Query()],
    session: SessionDep,
    state: StateDep,
    caller: CallerDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """The masked roll of one program in one district (latest period unless `periodo`),
    searchable by first name and surname initials (`q=JUAN Q M`), 25 entries a page."""
    await limiter.hit("publico", address, limit=state.settings.public_per_client, window_s=60)
    body = await roll_body(
        session,
        state,
        caller,
        programa=params.programa,
        ubigeo=params.ubigeo,
        periodo=params.periodo,
        q=params.q,
        page=params.page,
    )
    # Volunteers see full names: their pages must not sit in shared caches.
    headers = PUBLIC_CACHE if caller.role is Role.PUBLIC else {"Cache-Control": "no-store"}
    return JSONResponse(body, headers=headers)
