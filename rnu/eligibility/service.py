"""Use cases of eligibility: explain how a person fares against a program's rules."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.eligibility import repository
from rnu.eligibility.evaluate import Trace, evaluate, period_bounds
from rnu.eligibility.rules import load_programs
from rnu.errors import InvalidInput


async def explain(
    session: AsyncSession, *, person_id: int, program_code: str, period: str
) -> Trace:
    """Every rule of the program in force in `period`, judged on the registry's facts.

    Raises InvalidInput for an unknown program, a malformed period or one before the
    program existed, and NotFound for an unknown person.
    """
    program = load_programs().get(program_code.upper())
    if program is None:
        raise InvalidInput(f"unknown program {program_code!r}")
    try:
        period_bounds(period)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    facts = await repository.get_facts(
        session, person_id=person_id, program_code=program.code, period=period
    )
    try:
        return evaluate(program, period, facts)
    except LookupError as exc:
        raise InvalidInput(str(exc)) from exc
