"""Self-lookup: a DNI and a second fact only its holder knows → that person's coverage.

No oracle: an unknown DNI and a wrong second factor raise the same ``NotFound`` after the same
database work (the person query, one constant-time comparison per candidate plus one against a
dummy, and the coverage queries run for an id that matches nothing), so neither the answer nor
its timing tells a guesser that a DNI exists.
"""

from __future__ import annotations

import hmac
import importlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.coverage import repository
from rnu.coverage.models import (
    EligibilityTrace,
    HouseholdRecord,
    PersonCoverage,
    PersonRecord,
    ProgramStatus,
    TraceCheck,
)
from rnu.eligibility.rules import load_programs, rule_for
from rnu.errors import InvalidInput, NotFound
from rnu.normalize.dates import age_in_months, age_on
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
# Eligibility traces: the integrity engine's explain() when installed, else the rules here.

Explainer = Callable[[AsyncSession, int, str, str], Awaitable[EligibilityTrace | None]]


def _period_start(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


async def rules_explainer(
    session: AsyncSession,
    person: PersonRecord,
    household: HouseholdRecord | None,
    period: str,
    program_code: str,
) -> EligibilityTrace | None:
    """The program's rule for the period, checked against the registry, one line per rule."""
    program = load_programs().get(program_code)
    if program is None:
        return None
    try:
        rule = rule_for(program, period)
    except (LookupError, ValueError):
        return None
    on = _period_start(period)
    checks: list[TraceCheck] = []
    if person.death_on is not None:
        checks.append(
            TraceCheck(
                code="alive",
                passed=person.death_on >= on,
                values={"death_on": person.death_on.isoformat()},
            )
        )
    cse = household.cse if household else None
    if rule.cse_required:
        checks.append(
            TraceCheck(
                code="cse_required",
                passed=cse in rule.cse_required,
                values={"required": list(rule.cse_required), "cse": cse},
            )
        )
    if rule.cse_must_be_valid:
        in_force = household.cse_in_force(on) if household else False
        valid_to = (
            household.cse_valid_to.isoformat() if household and household.cse_valid_to else None
        )
        checks.append(
            TraceCheck(code="cse_in_force", passed=in_force, values={"valid_to": valid_to})
        )
    age = age_on(person.birth_on, on) if person.birth_on and person.birth_on <= on else None
    if rule.min_age_years is not None:
        checks.append(
            TraceCheck(
                code="min_age",
                passed=None if age is None else age >= rule.min_age_years,
                values={"min": rule.min_age_years, "age": age},
            )
        )
    if rule.max_age_years is not None:
        checks.append(
            TraceCheck(
                code="max_age",
                passed=None if age is None else age < rule.max_age_years,
                values={"max": rule.max_age_years, "age": age},
            )
        )
    if rule.max_age_months is not None:
        months = (
            age_in_months(person.birth_on, on)
            if person.birth_on and person.birth_on <= on
            else None
        )
        checks.append(
            TraceCheck(
                code="max_age_months",
                passed=None if months is None else months < rule.max_age_months,
                values={"max": rule.max_age_months, "months": months},
            )
        )
    if rule.incompatible_with:
        current = await repository.list_programs_in_period(
            session, person_id=person.id, period=period
        )
        clash = sorted(set(current) & set(rule.incompatible_with))
        checks.append(TraceCheck(code="incompatible", passed=not clash, values={"programs": clash}))
    if rule.requires_severe_disability:
        checks.append(TraceCheck(code="severe_disability", passed=None, values={}))
    known = [c.passed for c in checks if c.passed is not None]
    eligible: bool | None = (
        False if False in known else (None if any(c.passed is None for c in checks) else True)
    )
    return EligibilityTrace(
        program_code=program_code, period=period, eligible=eligible, checks=tuple(checks)
    )


def _integrity_explain() -> Callable[..., Awaitable[Any]] | None:
    """The integrity engine's ``explain(session, *, person_id, program_code, period)``.

    Looked up at call time so this module works with or without the engine installed.
    """
    for name in ("rnu.eligibility.service", "rnu.eligibility.evaluate"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        explain = getattr(module, "explain", None)
        if callable(explain):
            return explain  # type: ignore[no-any-return]
    return None


def _from_integrity(trace: Any, program_code: str, period: str) -> EligibilityTrace:
    """Adapt the engine's Trace (checks with rule/passed/facts/code) and its Spanish wording."""
    sentences: tuple[str, ...] = ()
    try:
        wording = importlib.import_module("rnu.eligibility.wording")
    except ImportError:
        wording = None
    if wording is not None and hasattr(wording, "explain_lines"):
        lines = [str(line[1]) for line in wording.explain_lines(trace)]
        head = [str(wording.verdict(trace))] if hasattr(wording, "verdict") else []
        sentences = tuple(head + lines)
    checks = tuple(
        TraceCheck(
            code=str(getattr(c, "code", getattr(c, "rule", "rule"))),
            passed=getattr(c, "passed", None),
            values=dict(getattr(c, "facts", {}) or {}),
        )
        for c in getattr(trace, "checks", ()) or ()
    )
    return EligibilityTrace(
        program_code=program_code,
        period=period,
        eligible=getattr(trace, "eligible", None),
        checks=checks,
        sentences=sentences,
    )


async def _trace(
    session: AsyncSession,
    person: PersonRecord,
    household: HouseholdRecord | None,
    program_code: str,
    period: str,
) -> EligibilityTrace | None:
    explain = _integrity_explain()
    if explain is not None:
        try:
            trace = await explain(
                session, person_id=person.id, program_code=program_code, period=period
            )
        except (LookupError, ValueError, NotFound, InvalidInput):
            trace = None
        if trace is not None:
            return _from_integrity(trace, program_code, period)
    return await rules_explainer(session, person, household, period, program_code)


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
        trace = await _trace(
            session, person, loaded.household, program.program_code, program.period
        )
        if trace is not None:
            traces.append(trace)
    reads = await repository.list_reads(session, subject_hmac=subject_hmac)
    return PersonCoverage(
        person=person,
        household=loaded.household,
        programs=programs,
        traces=tuple(traces),
        access_log=tuple(reads),
    )
