"""Self-lookup: a DNI and a second fact only its holder knows → that person's coverage.

No oracle: an unknown DNI and a wrong second factor raise the same ``NotFound`` after the same
database work (the person query, one constant-time comparison per candidate plus one against a
dummy, and the coverage queries run for an id that matches nothing), so neither the answer nor
its timing tells a guesser that a DNI exists.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.coverage import repository
from rnu.coverage.models import HouseholdRecord, PersonCoverage, PersonRecord, ProgramStatus
from rnu.eligibility import service as eligibility_service
from rnu.eligibility.evaluate import Trace
from rnu.errors import InvalidInput, NotFound
from rnu.normalize.documents import dni_check_chars, is_valid_dni

_DNI_INPUT = re.compile(r"^(\d{8})([0-9A-Z]?)$")
_NO_PERSON = -1
# Compared against when no candidate exists, so both failure paths make one comparison.
_DUMMY = "0000-00-00"


def parse_dni(raw: str) -> str:
    """'01234567', '01234567-8' or '01234567K' → '01234567'; raise InvalidInput otherwise.

    A wrong check character is an input error (it says nothing about who exists), so it is
    refused before any lookup.
    """
    cleaned = raw.strip().upper().replace("-", "").replace(" ", "")
    match = _DNI_INPUT.match(cleaned)
    if not match or not is_valid_dni(match.group(1)):
        raise InvalidInput("dni must be 8 digits, optionally followed by its check character")
    number, check = match.groups()
    if check and check not in dni_check_chars(number):
        raise InvalidInput("the check character does not match the DNI")
    return number


def has_check_character(dni_raw: str) -> bool:
    """True when the citizen typed the check character after the 8 digits.

    Called after ``parse_dni`` accepted the value, so a present character is the right one.
    """
    cleaned = dni_raw.strip().replace("-", "").replace(" ", "")
    return len(cleaned) == 9


class SecondFactor(Protocol):
    """A fact only the DNI holder should know, compared in constant time.

    Birth date today; the DNI issue date when a RENIEC feed provides it (a new class with the
    same two methods, chosen by name).
    """

    name: str

    def normalize(self, value: str) -> str:
        """The submitted value in canonical form; raise InvalidInput when malformed."""
        ...

    def expected(self, person: PersonRecord) -> str | None:
        """The canonical value the registry holds for this person (None: cannot verify)."""
        ...


class BirthDateFactor:
    """The birth date as ``YYYY-MM-DD``."""

    name = "fecha_nacimiento"

    def normalize(self, value: str) -> str:
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError as exc:
            raise InvalidInput("fecha_nacimiento must be a date YYYY-MM-DD") from exc

    def expected(self, person: PersonRecord) -> str | None:
        return person.birth_on.isoformat() if person.birth_on else None


SECOND_FACTORS: dict[str, SecondFactor] = {"fecha_nacimiento": BirthDateFactor()}


def _matches(expected: str | None, given: str) -> bool:
    # compare_digest on equal-length ASCII strings takes the same time whether they match or not.
    return hmac.compare_digest((expected or _DUMMY).encode(), given.encode()) and bool(expected)


async def verify(
    session: AsyncSession, *, dni: str, factor_value: str, factor: SecondFactor
) -> PersonRecord | None:
    """The person holding this DNI whose second factor matches, else None (same work both ways)."""
    given = factor.normalize(factor_value)
    candidates = await repository.list_by_document(session, number=dni)
    found: PersonRecord | None = None
    for person in candidates:
        if _matches(factor.expected(person), given) and found is None:
            found = person
    _matches(None, given)  # the dummy comparison every path makes
    return found


# ---------------------------------------------------------------------------------------------
# Eligibility traces: the rules engine's own explain(), worded by the use case that shows it.


async def _trace(
    session: AsyncSession, person: PersonRecord, program_code: str, period: str
) -> Trace | None:
    """The program's rules for the period against this person; None when they cannot be judged
    (a program the rules file does not know, or a period before its first rule)."""
    try:
        return await eligibility_service.explain(
            session, person_id=person.id, program_code=program_code, period=period
        )
    except (NotFound, InvalidInput):
        return None


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    household: HouseholdRecord | None
    enrollments: list[dict[str, object]]


async def _load(session: AsyncSession, person_id: int) -> _Loaded:
    return _Loaded(
        household=await repository.get_household(session, person_id=person_id),
        enrollments=await repository.list_latest_enrollments(session, person_id=person_id),
    )


async def lookup(
    session: AsyncSession,
    *,
    dni: str,
    second_factor: str,
    subject_hmac: str,
    factor: SecondFactor | None = None,
) -> PersonCoverage:
    """The verified person's coverage; NotFound for an unknown DNI *or* a wrong factor.

    ``dni`` is the 8-digit number (see ``parse_dni``); ``subject_hmac`` the keyed HMAC of it
    (computed by the caller with the server secret) that audit rows carry.
    """
    factor = factor or SECOND_FACTORS["fecha_nacimiento"]
    person = await verify(session, dni=dni, factor_value=second_factor, factor=factor)
    loaded = await _load(session, person.id if person else _NO_PERSON)
    if person is None:
        raise NotFound("no person matches this DNI and second factor")
    programs = tuple(
        ProgramStatus(
            program_code=str(e["program_code"]),
            program_name=str(e["program_name"]),
            period=str(e["period"]),
            latest_period=str(e["latest_period"]) if e["latest_period"] else None,
            status="active"
            if not e["latest_period"] or e["period"] >= e["latest_period"]  # type: ignore[operator]
            else "not_in_latest",
            enrollment_status=str(e["status"]),
            ubigeo=str(e["ubigeo"]) if e["ubigeo"] else None,
        )
        for e in loaded.enrollments
    )
    traces = []
    for program in programs:
        trace = await _trace(session, person, program.program_code, program.period)
        if trace is not None:
            traces.append(trace)
    not_received = await eligibility_service.explain_not_received(
        session, person_id=person.id, received=frozenset(p.program_code for p in programs)
    )
    reads = await repository.list_reads(session, subject_hmac=subject_hmac)
    return PersonCoverage(
        person=person,
        household=loaded.household,
        programs=programs,
        traces=tuple(traces),
        access_log=tuple(reads),
        not_received=not_received,
    )
