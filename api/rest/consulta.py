"""POST /api/v1/consulta: a citizen's own programs, CSE, eligibility and who read their data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StateDep
from api.errors import error_body, error_response
from api.lookup_guard import STEP_UP_MESSAGE, StepUpRequired, has_check_character
from api.ratelimit import ClientAddressDep, LimiterDep, RateLimited, RateLimiter
from api.state import AppState
from privacy import masking
from privacy.policy import PersonOut, PersonView, person_out
from privacy.roles import Caller, Role
from rnu.cache import LOOKUP_TTL_S, cache_for, digest, lookup_key, seal_key
from rnu.coverage import service as coverage_service
from rnu.coverage.models import EligibilityTrace, PersonCoverage, TraceCheck
from rnu.errors import InvalidInput, NotFound

router = APIRouter(prefix="/api/v1", tags=["consulta"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SCOPE = "consulta"

CSE_TEXT = {"PE": "pobre extremo", "P": "pobre", "NP": "no pobre"}
STATUS_TEXT = {
    "active": "Figura en el último padrón del programa.",
    "not_in_latest": "No figura en el último padrón del programa.",
}
ACTOR_TEXT = {
    "analyst": "Analista del RNU",
    "agency": "Entidad del Estado",
    "volunteer": "Voluntario de vigilancia",
}


def _cse(code: object) -> str:
    return CSE_TEXT.get(str(code), "sin clasificación")


def check_sentence(check: TraceCheck) -> str:
    """One rule check in plain Spanish."""
    v = check.values
    ok = check.passed
    if check.code == "alive":
        return "El RENIEC registra su fallecimiento." if ok is False else "Está con vida."
    if check.code == "cse_required":
        needed = " o ".join(_cse(c) for c in v.get("required", []))
        have = _cse(v.get("cse")) if v.get("cse") else "no tiene clasificación socioeconómica"
        verb = "cumple" if ok else "no cumple"
        return f"El programa pide hogares {needed}; su hogar es {have}: {verb}."
    if check.code == "cse_in_force":
        until = v.get("valid_to")
        if ok:
            return "Su clasificación socioeconómica está vigente."
        if until:
            return f"Su clasificación socioeconómica venció el {_fecha(until)}."
        return "Su hogar no tiene una clasificación socioeconómica vigente."
    if check.code == "min_age":
        if ok is None:
            return f"El programa pide {v.get('min')} años o más; no conocemos su edad."
        return f"El programa pide {v.get('min')} años o más; usted tenía {v.get('age')}."
    if check.code == "max_age":
        if ok is None:
            return f"El programa es para menores de {v.get('max')} años; no conocemos su edad."
        return f"El programa es para menores de {v.get('max')} años; usted tenía {v.get('age')}."
    if check.code == "max_age_months":
        return f"El programa es para menores de {v.get('max')} meses."
    if check.code == "incompatible":
        if ok:
            return "No recibe otro programa incompatible con este."
        return "Recibe a la vez un programa incompatible: " + ", ".join(v.get("programs", [])) + "."
    if check.code == "severe_disability":
        return "El programa pide un certificado de discapacidad severa, que el RNU no registra."
    return "Regla evaluada." if ok else "Regla no cumplida."


def trace_sentences(trace: EligibilityTrace) -> list[str]:
    """The trace in plain Spanish: the integrity engine's sentences when it gave them."""
    if trace.sentences:
        return list(trace.sentences)
    return [check_sentence(c) for c in trace.checks]


def _fecha(value: Any) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    months = (
        "enero febrero marzo abril mayo junio julio agosto setiembre octubre noviembre diciembre"
    ).split()
    return f"{value.day} de {months[value.month - 1]} de {value.year}"


def periodo_texto(period: str) -> str:
    months = (
        "enero febrero marzo abril mayo junio julio agosto setiembre octubre noviembre diciembre"
    ).split()
    return f"{months[int(period[5:7]) - 1]} de {period[:4]}" if len(period) >= 7 else period


class ConsultaIn(BaseModel):
    """A DNI (8 digits, with or without its check character) and the holder's birth date."""

    model_config = ConfigDict(extra="forbid")

    dni: str = Field(min_length=8, max_length=11, pattern=r"^\s*\d{8}(-?[0-9A-Za-z])?\s*$")
    fecha_nacimiento: str = Field(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")


class ProgramaOut(BaseModel):
    codigo: str
    nombre: str
    periodo: str
    ultimo_periodo: str | None
    estado: str
    estado_texto: str


class HogarOut(BaseModel):
    cse: str | None
    cse_texto: str
    vigente_hasta: date | None
    vigente: bool


class TrazaOut(BaseModel):
    programa: str
    periodo: str
    cumple: bool | None
    explicacion: list[str]


class AccesoOut(BaseModel):
    fecha: datetime
    quien: str
    tipo: str
    accion: str
    motivo: str | None


class ConsultaOut(BaseModel):
    """The verified person's own record; never cached by browsers or proxies."""

    persona: PersonOut
    hogar: HogarOut | None
    programas: list[ProgramaOut]
    elegibilidad: list[TrazaOut]
    accesos: list[AccesoOut]


def secret_of(state: AppState) -> bytes:
    return state.settings.secret_key.get_secret_value().encode()


def build_out(coverage: PersonCoverage, secret: bytes, subject_hmac: str) -> ConsultaOut:
    """Pass the coverage through the citizen-self policy and word it in Spanish."""
    p = coverage.person
    h = coverage.household
    view = PersonView.build(
        secret,
        person_key=p.pgh_key or f"id:{p.id}",
        dni=p.doc_number,
        nombres=p.nombres,
        apellido_paterno=p.apellido_paterno,
        apellido_materno=p.apellido_materno,
        birth_date=p.birth_on,
        sex=p.sex,
        ubigeo=p.ubigeo,
        programs=tuple(s.program_code for s in coverage.programs),
        cse=h.cse if h else None,
        cse_valid_to=h.cse_valid_to if h else None,
        household_code=h.pgh_code if h else None,
    )
    shown = person_out(view, Caller(role=Role.CITIZEN, subject_hmac=subject_hmac))
    hogar = None
    if h is not None:
        hogar = HogarOut(
            cse=shown.cse,
            cse_texto=_cse(shown.cse) if shown.cse else "sin clasificación socioeconómica",
            vigente_hasta=shown.cse_valid_to,
            vigente=h.cse_in_force(date.today()),
        )
    return ConsultaOut(
        persona=shown,
        hogar=hogar,
        programas=[
            ProgramaOut(
                codigo=s.program_code,
                nombre=s.program_name,
                periodo=s.period,
                ultimo_periodo=s.latest_period,
                estado=s.status,
                estado_texto=STATUS_TEXT.get(s.status, s.status),
            )
            for s in coverage.programs
        ],
        elegibilidad=[
            TrazaOut(
                programa=t.program_code,
                periodo=t.period,
                cumple=t.eligible,
                explicacion=trace_sentences(t),
            )
            for t in coverage.traces
        ],
        accesos=[
            AccesoOut(
                fecha=a.at,
                quien=a.actor_id
                if a.actor_kind == "agency"
                else ACTOR_TEXT.get(a.actor_kind, "RNU"),
                tipo=ACTOR_TEXT.get(a.actor_kind, a.actor_kind),
                accion=a.action,
                motivo=a.purpose,
            )
            for a in coverage.access_log
        ],
    )


async def self_lookup(
    session: AsyncSession,
    state: AppState,
    limiter: RateLimiter,
    address: str,
    *,
    dni_raw: str,
    fecha_nacimiento: str,
) -> dict[str, Any]:
    """The whole use case, shared by REST and the web page: limits, cache, lookup, policy.

    Raises RateLimited (429), InvalidInput (malformed) or NotFound (unknown DNI *or* wrong
    factor: same error, same work).
    """
    settings = state.settings
    limits = {"limit": settings.lookup_per_client, "window_s": settings.lookup_window_s}
    try:
        dni = coverage_service.parse_dni(dni_raw)
    except InvalidInput:
        await limiter.hit(SCOPE, address, **limits)  # a malformed DNI counts as well
        raise
    secret = secret_of(state)
    subject = masking.dni_hmac(secret, dni)
    stepped_up = has_check_character(dni_raw)  # the holder's way in once strangers guessed
    await limiter.hit_and_check_subject(SCOPE, address, subject, stepped_up=stepped_up, **limits)
    cache = cache_for(state.redis)
    version = await state.data_version.current(session)
    key = lookup_key(
        version, Role.CITIZEN.value, subject, digest(secret, "factor", f"{dni}:{fecha_nacimiento}")
    )
    seal = seal_key(secret, dni, fecha_nacimiento)  # the answer holds the DNI: never plain
    cached = await cache.get_sealed(key, seal)
    if cached is not None:
        return dict(cached)
    try:
        coverage = await coverage_service.lookup(
            session, dni=dni, second_factor=fecha_nacimiento, subject_hmac=subject
        )
    except NotFound:
        await limiter.record_failure(SCOPE, subject, address=address, stepped_up=stepped_up)
        raise
    body = build_out(coverage, secret, subject).model_dump(mode="json")
    await cache.set_sealed(key, body, LOOKUP_TTL_S, seal)
    return body


@router.post(
    "/consulta",
    response_model=ConsultaOut,
    responses={
        404: {"description": "Unknown DNI or wrong second factor (the same answer for both)"},
        428: {"description": "This DNI saw wrong birth dates: send it with its check character"},
        429: {"description": "Too many lookups from this client, or this DNI's budget is spent"},
    },
)
async def consulta(
    payload: ConsultaIn,
    session: SessionDep,
    state: StateDep,
    limiter: LimiterDep,
    address: ClientAddressDep,
) -> JSONResponse:
    """Your programs, household CSE and its expiry, why you qualify or not, and who read your
    record. An unknown DNI and a wrong birth date get the same answer, status and timing."""
    try:
        body = await self_lookup(
            session,
            state,
            limiter,
            address,
            dni_raw=payload.dni,
            fecha_nacimiento=payload.fecha_nacimiento,
        )
    except RateLimited as exc:
        return error_response(
            "RateLimited", "too many requests", 429, headers={**NO_STORE, **(exc.headers or {})}
        )
    except StepUpRequired as exc:
        body = error_body("StepUpRequired", str(exc.detail))
        body["mensaje"] = STEP_UP_MESSAGE
        return JSONResponse(body, status_code=exc.status_code, headers=NO_STORE)
    except (NotFound, InvalidInput) as exc:
        name = type(exc).__name__
        return error_response(name, str(exc), 404 if name == "NotFound" else 400, NO_STORE)
    # Returned as is: the body was built (or cached) through the policy models already.
    return JSONResponse(body, headers=NO_STORE)
