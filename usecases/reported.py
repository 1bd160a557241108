"""Who a report is about: the roll entry behind a public entry id, as the caller may see it.

The volunteers' report form names the person reported (issue 13.6) the way the volunteer's
roll shows them: the full name in their districts, nobody the policy does not list (minors,
Contigo users). The read of a name is audited, so the citizen's "¿Quién revisó sus datos?"
shows it.
"""

from __future__ import annotations

from privacy import masking
from privacy.policy import RollEntryOut, RollEntryView, roll_entry
from privacy.roles import Role
from rnu.audit import service as audit
from rnu.roll import service as roll_service
from usecases.context import Context

READ_ACTION = "report.prepare"
FIELDS = ("nombres", "apellido_paterno", "apellido_materno")


async def reported_entry(
    ctx: Context, *, programa: str, ubigeo: str, entrada: str
) -> RollEntryOut | None:
    """The entry as the caller's roll policy shows it; None when the policy does not list it.

    NotFound for an id that is not on the program's roll in that district.
    """
    secret = ctx.secret
    record = await roll_service.entry(
        ctx.session,
        program_code=programa.upper(),
        ubigeo=ubigeo,
        entry_id=entrada,
        entry_id_of=lambda key: masking.entry_id(secret, key),
    )
    view = RollEntryView.build(
        secret,
        enrollment_key=record.entry_key,
        dni=record.dni,
        nombres=record.nombres,
        apellido_paterno=record.apellido_paterno,
        apellido_materno=record.apellido_materno,
        birth_date=record.birth_on,
        sex=record.sex,
        ubigeo=record.ubigeo,
        program=record.program_code,
        period=record.period,
    )
    shown = roll_entry(view, ctx.caller)
    caller = ctx.caller
    if shown is not None and shown.nombres is not None and caller.role is Role.VOLUNTEER:
        await audit.record(
            ctx.session,
            actor=audit.Actor(kind="volunteer", id=caller.actor_id or "volunteer"),
            action=READ_ACTION,
            subject_hmac=view.dni_hmac or None,
            fields=FIELDS,
            details={"program": record.program_code, "ubigeo": ubigeo},
        )
    return shown
