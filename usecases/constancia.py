"""A printable, verifiable constancia of a citizen's own lookup, and its public verification.

Who may download one: only the holder who just passed the DNI + birth date check, in the same
flow. There is no endpoint keyed by DNI. When ``usecases.citizen.lookup`` answers, the page
calls ``open_flow`` with that answer (already through the citizen-self policy): it keeps a
draft in Redis, sealed under a random token the browser gets as a cookie, and the page carries
a form value derived from the token (so another site cannot make the browser post it). The
download (``issue``) needs both, within ``FLOW_TTL_S``; it stores the constancia (masked
fields, the content's hash, a random code — never the DNI) and audits the download on the
person, like any read of their data.

Anyone can check a code (``verify``, rate-limited per client): the answer shows what the
constancia certified and when, from the stored masked fields only — no more than the paper.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from privacy import masking
from rnu.audit import service as audit
from rnu.cache import CacheUnavailable, digest, key, seal_key
from rnu.constancia import codes, repository
from rnu.constancia.models import Constancia
from rnu.errors import Forbidden, NotFound
from usecases import wording
from usecases.citizen import ConsultaOut
from usecases.context import Context

FLOW_TTL_S = 15 * 60  # how long after the lookup the holder may download the constancia
VERIFY_SCOPE = "verificar"
VERIFY_WINDOW_S = 600
ACTOR = audit.Actor(kind="citizen", id="citizen:self", purpose="constancia")
AUDITED_FIELDS = ("nombres", "apellidos", "dni", "programas", "cse")


class ProgramaCertificado(BaseModel):
    nombre: str
    periodo: str  # in words: 'octubre de 2026'
    estado: str


class Certificado(BaseModel):
    """What a constancia certifies: masked, hashed, stored, and shown again at /verificar."""

    dni: str  # masked: '*****321'
    nombre: str  # masked: 'JUANA M. Q*** M***'
    programas: list[ProgramaCertificado]
    hogar: str  # the household's classification in one sentence


class Borrador(BaseModel):
    """The flow's draft, sealed in Redis: what the PDF prints, and whom to audit."""

    subject: str  # the audit subject (keyed HMAC of the DNI), never the DNI
    nombre_completo: str  # printed for the holder; not stored with the constancia
    certificado: Certificado
    orientacion: list[str]  # "other programs" advice: printed, not certified
    codigo: str | None = None  # set once the constancia is issued (re-downloads reuse it)
    emitida: datetime | None = None


class Emitida(BaseModel):
    """An issued constancia, as the PDF prints it."""

    codigo: str
    emitida: datetime
    emitida_texto: str
    huella: str  # sha256 of the certified content, in hex
    nombre_completo: str
    certificado: Certificado
    orientacion: list[str]


class Verificacion(BaseModel):
    """What /verificar shows about a genuine code."""

    codigo: str
    emitida: datetime
    emitida_texto: str
    certificado: Certificado
    huella: str
    integra: bool  # the stored content still hashes to the stored hash


@dataclass(frozen=True)
class Ticket:
    """The browser's half (``token``, a cookie) and the page's half (``form``, a hidden field)."""

    token: str
    form: str


def _household(answer: ConsultaOut) -> str:
    h = answer.hogar
    if h is None:
        return "No figura en el Padrón General de Hogares."
    text = f"Hogar con clasificación socioeconómica {h.cse_texto}"
    if h.vigente_hasta:
        until = wording.fecha_larga(h.vigente_hasta)
        text += f", vigente hasta el {until}" if h.vigente else f", vencida el {until}"
    return text + "."


def draft(secret: bytes, answer: ConsultaOut) -> Borrador:
    """The constancia's content from the lookup's answer (already the citizen-self view)."""
    p = answer.persona
    full = " ".join(x for x in (p.nombres, p.apellido_paterno, p.apellido_materno) if x)
    return Borrador(
        subject=masking.dni_hmac(secret, p.dni or ""),
        nombre_completo=full,
        certificado=Certificado(
            dni=masking.mask_dni(p.dni or ""),
            nombre=masking.mask_name(p.nombres, p.apellido_paterno, p.apellido_materno),
            programas=[
                ProgramaCertificado(
                    nombre=prog.nombre,
                    periodo=wording.periodo(prog.periodo),
                    estado=prog.estado_texto,
                )
                for prog in answer.programas
            ],
            hogar=_household(answer),
        ),
        orientacion=[f"{o.nombre}: {o.resumen} {o.donde}" for o in answer.otros_programas],
    )


def _flow_key(secret: bytes, token: str) -> str:
    return key("constancia", "flow", digest(secret, "constancia-flow", token))


def _flow_seal(secret: bytes, token: str) -> bytes:
    return seal_key(secret, "constancia-flow", token)


def form_value(secret: bytes, token: str) -> str:
    """The hidden form field that goes with a flow's cookie."""
    return digest(secret, "constancia-form", token)


async def open_flow(ctx: Context, answer: dict[str, object]) -> Ticket:
    """After a successful lookup: keep the draft for the holder's download, sealed."""
    typed = ConsultaOut.model_validate(answer)
    token = secrets.token_urlsafe(32)
    body = draft(ctx.secret, typed).model_dump(mode="json")
    await ctx.cache.set_sealed(
        _flow_key(ctx.secret, token), body, FLOW_TTL_S, _flow_seal(ctx.secret, token)
    )
    return Ticket(token=token, form=form_value(ctx.secret, token))


def content_hash(code: str, issued_at: datetime, certified: dict[str, Any]) -> str:
    """sha256 over the code, the moment and the certified content, in canonical JSON."""
    canonical = json.dumps(
        {"codigo": code, "emitida": issued_at.isoformat(), "certificado": certified},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _store(ctx: Context, certificado: Certificado) -> Constancia:
    code = codes.new_code()
    while await repository.code_exists(ctx.session, code):
        code = codes.new_code()  # 2^60 codes: practically never loops
    issued_at = ctx.clock.now()
    certified = certificado.model_dump(mode="json")
    return await repository.add(
        ctx.session,
        Constancia(
            code=code,
            content_sha256=content_hash(code, issued_at, certified),
            issued_at=issued_at,
            dni_masked=certificado.dni,
            name_masked=certificado.nombre,
            certified=certified,
        ),
    )


async def issue(ctx: Context, *, token: str | None, form: str | None) -> Emitida:
    """The holder's constancia: stored the first time, re-printed after; audited each time.

    NotFound when the flow is unknown or over (the holder looks up again); Forbidden when the
    form value does not belong to the cookie's flow.
    """
    if not token:
        raise NotFound("no constancia flow")
    if not form or not hmac.compare_digest(form, form_value(ctx.secret, token)):
        raise Forbidden("the form does not belong to this flow")
    flow_key, seal = _flow_key(ctx.secret, token), _flow_seal(ctx.secret, token)
    raw = await ctx.cache.get_sealed(flow_key, seal)
    if raw is None:
        raise NotFound("the constancia flow is over")
    flow = Borrador.model_validate(raw)
    if flow.codigo is None or flow.emitida is None:
        row = await _store(ctx, flow.certificado)
        flow = flow.model_copy(update={"codigo": row.code, "emitida": row.issued_at})
        try:
            remaining = await ctx.cache.ttl(flow_key)
        except CacheUnavailable:
            remaining = FLOW_TTL_S
        await ctx.cache.set_sealed(flow_key, flow.model_dump(mode="json"), max(remaining, 1), seal)
    assert flow.codigo is not None
    assert flow.emitida is not None
    await audit.record(
        ctx.session,
        actor=ACTOR,
        action="constancia.issue",
        subject_hmac=flow.subject,
        fields=AUDITED_FIELDS,
        details={"codigo": flow.codigo},
    )
    certified = flow.certificado.model_dump(mode="json")
    return Emitida(
        codigo=flow.codigo,
        emitida=flow.emitida,
        emitida_texto=wording.fecha_hora(flow.emitida),
        huella=content_hash(flow.codigo, flow.emitida, certified),
        nombre_completo=flow.nombre_completo,
        certificado=flow.certificado,
        orientacion=flow.orientacion,
    )


async def verify(ctx: Context, raw_code: str) -> Verificacion:
    """A code's constancia, from its stored masked fields; NotFound for any other text.

    Counted against the client before anything is read, malformed codes included, so the
    endpoint cannot be used to try codes quickly.
    """
    await ctx.limiter.hit(
        VERIFY_SCOPE,
        ctx.client,
        limit=ctx.settings.verify_per_client,
        window_s=VERIFY_WINDOW_S,
    )
    code = codes.normalize(raw_code[:40])
    row = await repository.by_code(ctx.session, code) if code else None
    if row is None:
        raise NotFound("no constancia with that code")
    certified = dict(row.certified)
    return Verificacion(
        codigo=row.code,
        emitida=row.issued_at,
        emitida_texto=wording.fecha_hora(row.issued_at),
        certificado=Certificado.model_validate(certified),
        huella=row.content_sha256,
        integra=hmac.compare_digest(
            row.content_sha256, content_hash(row.code, row.issued_at, certified)
        ),
    )
