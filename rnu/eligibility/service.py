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


async def explain_not_received(
    session: AsyncSession, *, person_id: int, received: frozenset[str]
) -> tuple[Trace, ...]:
    """The person against every program they are not on, each at its latest loaded roll.

    Only programs whose roll RNU holds are judged: without a roll RNU cannot tell whether
    someone receives the program. Programs in ``received`` (any period) are left out; so is
    a program whose latest period has no rule in force. Ordered as the rules file lists them.
    """
    programs = load_programs()
    latest = await repository.latest_roll_periods(session)
    periods = {code: latest[code] for code in programs if code in latest and code not in received}
    facts = await repository.get_facts_for_programs(session, person_id=person_id, periods=periods)
    traces = []
    for code, period in periods.items():
        try:
            traces.append(evaluate(programs[code], period, facts[code]))
        except (LookupError, ValueError):  # no rule in force then, or a malformed period
            continue
    return tuple(traces)
