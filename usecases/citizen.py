"""A citizen's jobs: look up their own record (and warm that answer), report a case, track it.

The REST API, the web pages and peak-mode warming all call these; none rebuilds the recipe.
The self-lookup answer holds the person's DNI, so it is cached only sealed (encrypted under
a key derived from the DNI and the birth date the citizen typed) and keyed by HMACs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from privacy import masking
from privacy.policy import PersonOut, person_out
from privacy.roles import Caller, Role
from rnu.cache import LOOKUP_TTL_S, Cache, digest, lookup_key, seal_key
from rnu.coverage import service as coverage_service
from rnu.coverage.models import AccessGroup, PersonCoverage
from rnu.eligibility.evaluate import Trace
from rnu.errors import InvalidInput, NotFound
from rnu.report import service as report_service
from rnu.report.models import REASON_CODES
from rnu.report.service import ReportReceipt, ReportTarget
from rnu.roll import service as roll_service
from usecases import orientation, views, wording
from usecases.context import Context
from usecases.orientation import PosibleOut

LOOKUP_SCOPE = "consulta"

# ---------------------------------------------------------------------------------------------
# The self-lookup's answer.


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
    """Reads of the record by one reader, for one purpose, on one day (Lima), in words."""

    quien: str  # the agency's public name, or "Analista del RNU"
    tipo: str  # "Entidad del Estado", "Analista del RNU", …
    motivo: str  # the purpose in words
    motivo_codigo: str | None  # the declared purpose code (None: recorded without one)
    dia: date  # the Lima day of these reads
    fecha: datetime  # the latest of them
    primera: datetime  # the first of them
    veces: int
    cuando: str  # "3 de diciembre de 2026, 10:15" / "…, de 09:02 a 16:40"


def acceso_out(group: AccessGroup) -> AccesoOut:
    """One group of reads as the citizen reads it."""
    last = wording.fecha_hora(group.last_at)
    if group.count > 1 and wording.hora(group.first_at) != wording.hora(group.last_at):
        cuando = (
            f"{wording.fecha_larga(group.day)}, de {wording.hora(group.first_at)} "
            f"a {wording.hora(group.last_at)}"
        )
    else:
        cuando = last
    return AccesoOut(
        quien=wording.reader_label(group.actor_kind, group.reader, group.agency_name),
        tipo=wording.ACTOR_KINDS.get(group.actor_kind, group.actor_kind),
        motivo=wording.purpose_label(group.purpose, group.action),
        motivo_codigo=group.purpose,
        dia=group.day,
        fecha=group.last_at,
        primera=group.first_at,
        veces=group.count,
        cuando=cuando,
    )


class ConsultaOut(BaseModel):
    """The verified person's own record; never cached by browsers or proxies."""

    persona: PersonOut
    hogar: HogarOut | None
    programas: list[ProgramaOut]
    elegibilidad: list[TrazaOut]
    accesos: list[AccesoOut]
    # Programs the person appears to qualify for but is not on (usecases.orientation).
    otros_programas: list[PosibleOut] = Field(default_factory=list)


def explanation(trace: Trace) -> list[str]:
    """A trace in plain Spanish: the verdict, then one sentence per rule checked."""
    return [wording.verdict(trace)] + [line for _, line in wording.explain_lines(trace)]


def answer(coverage: PersonCoverage, secret: bytes, subject_hmac: str, today: date) -> ConsultaOut:
    """Pass the coverage through the citizen-self policy and word it in Spanish."""
    h = coverage.household
    view = views.person_view(
        secret,
        coverage.person,
        household=h,
        programs=(s.program_code for s in coverage.programs),
        today=today,
    )
    shown = person_out(view, Caller(role=Role.CITIZEN, subject_hmac=subject_hmac))
    hogar = None
    if h is not None:
        hogar = HogarOut(
            cse=shown.cse,
            cse_texto=wording.cse_label(shown.cse) if shown.cse else wording.NO_CSE,
            vigente_hasta=shown.cse_valid_to,
            vigente=h.cse_in_force(today),
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
                estado_texto=wording.ENROLLMENT_STATUS.get(s.status, s.status),
            )
            for s in coverage.programs
        ],
        elegibilidad=[
            TrazaOut(
                programa=t.program, periodo=t.period, cumple=t.eligible, explicacion=explanation(t)
            )
            for t in coverage.traces
        ],
        accesos=[acceso_out(a) for a in coverage.access_log],
        otros_programas=orientation.posibles(coverage.not_received),
    )


class LookupRecipe:
    """The cache key, seal and body of one self-lookup: shared by lookup, warming and the
    edge's fast path for cached answers (``api.fastpath``), so all three agree on the entry."""

    def __init__(self, secret: bytes, version: int, dni: str, fecha_nacimiento: str) -> None:
        self.secret = secret
        self.dni = dni
        self.fecha = fecha_nacimiento
        self.subject = masking.dni_hmac(secret, dni)
        factor = digest(secret, "factor", f"{dni}:{fecha_nacimiento}")
        self.key = lookup_key(version, Role.CITIZEN.value, self.subject, factor)
        self.seal = seal_key(secret, dni, fecha_nacimiento)  # the answer holds the DNI

    async def compute(self, session: AsyncSession, today: date) -> dict[str, object]:
        """The answer, from the database; NotFound for an unknown DNI or a wrong date."""
        coverage = await coverage_service.lookup(
            session, dni=self.dni, second_factor=self.fecha, subject_hmac=self.subject
        )
        return answer(coverage, self.secret, self.subject, today).model_dump(mode="json")

    async def store(self, cache: Cache, body: dict[str, object], ttl_s: int) -> None:
        await cache.set_sealed(self.key, body, ttl_s, self.seal)


async def lookup(ctx: Context, *, dni_raw: str, fecha_nacimiento: str) -> dict[str, object]:
    """A citizen's own record: limits, cache, lookup, policy, in that order.

    Returns the ``ConsultaOut`` as JSON data (as cached: the answer is served without a model
    round trip). Raises RateLimited, StepUpRequired, InvalidInput (malformed) or NotFound
    (unknown DNI *or* wrong birth date: same error, same work).
    """
    settings = ctx.settings
    limits = {"limit": settings.lookup_per_client, "window_s": settings.lookup_window_s}
    try:
        dni = coverage_service.parse_dni(dni_raw)
    except InvalidInput:
        await ctx.limiter.hit(LOOKUP_SCOPE, ctx.client, **limits)  # a malformed DNI counts too
        raise
    recipe = LookupRecipe(ctx.secret, await ctx.version(), dni, fecha_nacimiento)
    stepped_up = coverage_service.has_check_character(dni_raw)  # the holder's way in
    await ctx.limiter.hit_and_check_subject(
        LOOKUP_SCOPE, ctx.client, recipe.subject, stepped_up=stepped_up, **limits
    )
    cached = await ctx.cache.get_sealed(recipe.key, recipe.seal)
    if cached is not None:
        return dict(cached)
    try:
        body = await recipe.compute(ctx.session, ctx.clock.today())
    except NotFound:
        await ctx.limiter.record_failure(
            LOOKUP_SCOPE, recipe.subject, address=ctx.client, stepped_up=stepped_up
        )
        raise
    await recipe.store(ctx.cache, body, LOOKUP_TTL_S)
    return body


async def warm(ctx: Context, *, dni: str, birth_on: date, ttl_s: int) -> bool:
    """Precompute one living person's self-lookup answer, exactly as ``lookup`` would cache it.

    False when the registry cannot answer for this DNI (two people on it, or data changed).
    """
    recipe = LookupRecipe(ctx.secret, await ctx.version(), dni, birth_on.isoformat())
    try:
        body = await recipe.compute(ctx.session, ctx.clock.today())
    except NotFound:
        return False
    await recipe.store(ctx.cache, body, ttl_s)
    return True


# ---------------------------------------------------------------------------------------------
# Reports and their tracking.

Motivo = Literal[
    "fallecido", "no_vive_en_el_distrito", "no_es_pobre", "pensionista", "duplicado", "otro"
]
if set(get_args(Motivo)) != set(REASON_CODES) or set(REASON_CODES) != set(wording.REPORT_REASONS):
    raise RuntimeError("Motivo, REASON_CODES and the reasons' wording differ")

REPORTS_SCOPE = "reportes"
TRACKING_SCOPE = "seguimiento"


class ReporteIn(BaseModel):
    """A report: a roll entry (its public id, with its program and district) or a description."""

    model_config = ConfigDict(extra="forbid")

    motivo: Motivo
    entrada: str | None = Field(default=None, min_length=16, max_length=16)
    programa: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9_]+$")
    ubigeo: str | None = Field(default=None, pattern=r"^\d{6}$")
    descripcion: str | None = Field(default=None, max_length=report_service.MAX_TEXT)
    contacto: str | None = Field(default=None, max_length=report_service.MAX_CONTACT)

    @model_validator(mode="after")
    def _entry_needs_place(self) -> ReporteIn:
        if self.entrada and not (self.programa and self.ubigeo):
            raise ValueError("entrada needs programa and ubigeo")
        return self


class ReporteCreado(BaseModel):
    # None when the report was folded into an earlier one from the same connection: that
    # report's code stays with whoever received it (issue 11.20).
    codigo: str | None
    agrupado: bool
    mensaje: str


class PasoOut(BaseModel):
    fecha: datetime
    estado: str
    estado_texto: str


class SeguimientoOut(BaseModel):
    codigo: str
    estado: str
    estado_texto: str
    motivo: str
    motivo_texto: str
    programa: str | None
    ubigeo: str | None
    recibido: datetime
    historial: list[PasoOut]


def receipt_out(receipt: ReportReceipt) -> ReporteCreado:
    return ReporteCreado(
        codigo=receipt.tracking_code,
        agrupado=receipt.folded,
        mensaje=(
            "Recibimos su reporte. Guarde el código para seguir su estado."
            if not receipt.folded
            else "Ya habíamos recibido este reporte suyo; lo sumamos al anterior."
            if receipt.tracking_code
            else "Ya habíamos recibido este mismo reporte hace poco; lo sumamos al anterior. "
            "Para seguir su estado use el código que se entregó la primera vez."
        ),
    )


async def report(ctx: Context, payload: ReporteIn) -> ReportReceipt:
    """File a report: limit, resolve the roll entry it points at, file, fold repeats."""
    settings = ctx.settings
    await ctx.limiter.hit(
        REPORTS_SCOPE, ctx.client, limit=settings.reports_per_client, window_s=3600
    )
    secret = ctx.secret
    programa = payload.programa.upper() if payload.programa else None
    target = ReportTarget(program_code=programa, ubigeo=payload.ubigeo)
    if payload.entrada and programa and payload.ubigeo:
        resolved = await roll_service.resolve_entry(
            ctx.session,
            program_code=programa,
            ubigeo=payload.ubigeo,
            entry_id=payload.entrada,
            entry_id_of=lambda key: masking.entry_id(secret, key),
        )
        target = ReportTarget(
            program_code=programa,
            ubigeo=payload.ubigeo,
            period=resolved.period,
            entry_id=payload.entrada,
            person_id=resolved.person_id,
            enrollment_id=resolved.enrollment_id,
        )
    caller = ctx.caller
    reporter = caller.actor_id if caller.role is Role.VOLUNTEER and caller.actor_id else ctx.client
    return await report_service.create_report(
        ctx.session,
        target=target,
        reason_code=payload.motivo,
        text=payload.descripcion,
        contact=payload.contacto,
        reporter_hmac=digest(secret, "reporter", f"{caller.role.value}:{reporter}"),
        reporter_role=caller.role.value,
    )


def status_out(status: report_service.ReportStatus) -> SeguimientoOut:
    states = wording.REPORT_STATUS
    return SeguimientoOut(
        codigo=status.tracking_code,
        estado=status.status,
        estado_texto=states.get(status.status, status.status),
        motivo=status.reason_code,
        motivo_texto=wording.REPORT_REASONS.get(status.reason_code, status.reason_code),
        programa=status.program_code,
        ubigeo=status.ubigeo,
        recibido=status.created_at,
        historial=[
            PasoOut(fecha=s.at, estado=s.status, estado_texto=states.get(s.status, s.status))
            for s in status.history
        ],
    )


async def track(ctx: Context, codigo: str) -> SeguimientoOut:
    """A report's status history by its tracking code; NotFound for an unknown code."""
    await ctx.limiter.hit(
        TRACKING_SCOPE, ctx.client, limit=ctx.settings.public_per_client, window_s=60
    )
    status = await report_service.get_status(ctx.session, tracking_code=codigo[:40])
    return status_out(status)
