"""Judge one person against one program's rules for one period: a pure, explainable trace.

"As of the period" means, for every rule, the period's first day (`period_bounds`):

* age: whole years (months for Cuna Más) completed on the first day, so a birthday that
  falls on the first day counts; someone born after it is 0 years / 0 months old;
* CSE: the household's classification must be valid on the first day (valid_from <= first
  day <= valid_to; an open end is no limit). A CSE that expires during the period still
  covers that period, because the transfer for a period is decided when the period opens;
  a CSE that only starts later in the period does not;
* death: a death before the first day makes the enrollment a filtración; a death during the
  period (even on its last day) does not: the person was alive when the period opened;
* Juntos' household requirement: a living member under the age limit on the first day.

A yearly period ("2026", Beca 18) is judged on 1 January, with the rule in force then.
The integrity checks (`rnu.integrity.checks`) implement the same rules in set-based SQL; a
test keeps both in agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rnu.eligibility.rules import Program, Rule, rule_for
from rnu.normalize.dates import age_in_months, age_on
from rnu.period import Period

# Kinds a failed check raises (the names of truth/rows.csv `cases`).
RULE_KINDS = (
    "not_in_pgh",
    "cse_missing",
    "cse_not_qualifying",
    "cse_expired",
    "age_out_of_range",
    "deceased",
    "incompatible_programs",
    "household_twice",
)


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a period `YYYY-MM` (or a yearly `YYYY`); InvalidPeriod otherwise."""
    parsed = Period.parse(period)
    return parsed.first_day, parsed.last_day


def rule_in_force(program: Program, period: str) -> Rule:
    """The rule version judging `period` (a yearly period by the rule of its January)."""
    return rule_for(program, str(Period.parse(period).first_month))


@dataclass(frozen=True, slots=True)
class Member:
    """A household member as the Juntos requirement needs them."""

    birth_on: date | None
    death_on: date | None = None


@dataclass(frozen=True, slots=True)
class HouseholdFacts:
    """The PGH household of a person: its CSE, validity window and members."""

    cse: str | None
    cse_valid_from: date | None
    cse_valid_to: date | None
    members: tuple[Member, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What the registry knows about a person, to be judged against a program.

    `other_programs`: the person's other programs in the same period;
    `household_titulars`: how many people of the household are on this program's roll in
    the period (household programs pay one titular per household).
    """

    in_pgh: bool
    birth_on: date | None
    death_on: date | None = None
    household: HouseholdFacts | None = None
    other_programs: frozenset[str] = frozenset()
    household_titulars: int = 1
    disability_certificate: str | None = None


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule: passed (True), broken (False) or not verifiable (None), with its facts.

    `code` names the outcome (e.g. `cse_ok`, `cse_expired`); when the rule is broken it is
    the flag kind the integrity checks raise.
    """

    rule: str
    passed: bool | None
    facts: dict[str, Any]
    code: str

    @property
    def kind(self) -> str | None:
        """The flag kind this check raises, None when it does not raise one."""
        return self.code if self.passed is False else None


@dataclass(frozen=True, slots=True)
class Trace:
    """Every rule of a program for a person and period, in a fixed order."""

    program: str
    period: str
    as_of: date
    rule_version: str
    checks: tuple[RuleCheck, ...] = field(default_factory=tuple)

    @property
    def eligible(self) -> bool | None:
        """False when a rule is broken; None when none is but one could not be verified."""
        if any(c.passed is False for c in self.checks):
            return False
        if any(c.passed is None for c in self.checks):
            return None
        return True

    @property
    def kinds(self) -> list[str]:
        return [c.code for c in self.checks if c.passed is False]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _ages(birth: date, on: date) -> tuple[int, int]:
    if birth > on:  # born during the period: not yet born when it opened
        return 0, 0
    return age_on(birth, on), age_in_months(birth, on)


def check_in_pgh(facts: Facts) -> RuleCheck:
    code = "in_pgh" if facts.in_pgh else "not_in_pgh"
    return RuleCheck("in_pgh", facts.in_pgh, {"in_pgh": facts.in_pgh}, code)


def check_cse(rule: Rule, facts: Facts, as_of: date) -> RuleCheck:
    """The household's CSE class, and its validity on the first day when the rule asks."""
    required = list(rule.cse_required)
    if not required:
        return RuleCheck("cse", True, {"required": []}, "cse_not_required")
    hh = facts.household
    if hh is None:
        return RuleCheck("cse", None, {"required": required}, "cse_unknown")
    found: dict[str, Any] = {
        "required": required,
        "cse": hh.cse,
        "valid_from": _iso(hh.cse_valid_from),
        "valid_to": _iso(hh.cse_valid_to),
        "must_be_valid": rule.cse_must_be_valid,
        "as_of": as_of.isoformat(),
    }
    if hh.cse is None:
        return RuleCheck("cse", False, found, "cse_missing")
    if hh.cse not in required:
        return RuleCheck("cse", False, found, "cse_not_qualifying")
    if rule.cse_must_be_valid:
        started = hh.cse_valid_from is None or hh.cse_valid_from <= as_of
        running = hh.cse_valid_to is None or as_of <= hh.cse_valid_to
        if not (started and running):
            return RuleCheck("cse", False, found, "cse_expired")
    return RuleCheck("cse", True, found, "cse_ok")


def check_age(rule: Rule, facts: Facts, as_of: date) -> RuleCheck | None:
    """Age limits of a person program; None when the program has none."""
    limits = {
        k: v
        for k, v in (
            ("min_age_years", rule.min_age_years),
            ("max_age_years", rule.max_age_years),
            ("max_age_months", rule.max_age_months),
        )
        if v is not None
    }
    if not limits:
        return None
    if facts.birth_on is None:
        return RuleCheck("age", None, {**limits, "birth_on": None}, "age_unknown")
    years, months = _ages(facts.birth_on, as_of)
    found = {
        **limits,
        "birth_on": facts.birth_on.isoformat(),
        "age_years": years,
        "age_months": months,
        "as_of": as_of.isoformat(),
    }
    ok = (
        (rule.min_age_years is None or years >= rule.min_age_years)
        and (rule.max_age_years is None or years < rule.max_age_years)
        and (rule.max_age_months is None or months < rule.max_age_months)
    )
    return RuleCheck("age", ok, found, "age_ok" if ok else "age_out_of_range")


def check_household_member(rule: Rule, facts: Facts, as_of: date) -> RuleCheck | None:
    """Juntos: a living member younger than the limit on the first day."""
    limit = rule.household_needs_member_under
    if limit is None:
        return None
    hh = facts.household
    if hh is None:
        return RuleCheck("household_member", None, {"under": limit}, "household_unknown")
    ages = sorted(
        _ages(m.birth_on, as_of)[0]
        for m in hh.members
        if m.birth_on is not None and (m.death_on is None or m.death_on >= as_of)
    )
    youngest = ages[0] if ages else None
    ok = youngest is not None and youngest < limit
    found = {"under": limit, "youngest_age": youngest, "as_of": as_of.isoformat()}
    return RuleCheck("household_member", ok, found, "member_ok" if ok else "age_out_of_range")


def check_alive(facts: Facts, as_of: date, last_day: date) -> RuleCheck:
    found = {"death_on": _iso(facts.death_on), "as_of": as_of.isoformat()}
    if facts.death_on is None:
        return RuleCheck("alive", True, found, "alive")
    if facts.death_on < as_of:
        return RuleCheck("alive", False, found, "deceased")
    code = "died_during_period" if facts.death_on <= last_day else "died_after_period"
    return RuleCheck("alive", True, found, code)


def check_incompatible(rule: Rule, facts: Facts) -> RuleCheck | None:
    if not rule.incompatible_with:
        return None
    clash = sorted(set(rule.incompatible_with) & facts.other_programs)
    found = {"incompatible_with": list(rule.incompatible_with), "also_in": clash}
    if clash:
        return RuleCheck("incompatible", False, found, "incompatible_programs")
    return RuleCheck("incompatible", True, found, "compatible")


def check_one_per_household(rule: Rule, facts: Facts) -> RuleCheck | None:
    if not rule.one_per_household:
        return None
    found = {"titulars": facts.household_titulars}
    if facts.household is None:
        return RuleCheck("one_per_household", None, found, "household_unknown")
    ok = facts.household_titulars <= 1
    return RuleCheck("one_per_household", ok, found, "one_titular" if ok else "household_twice")


def check_disability(rule: Rule, facts: Facts) -> RuleCheck | None:
    """Contigo: the PGH has no disability data, only the roll's certificate can show it."""
    if not rule.requires_severe_disability:
        return None
    certificate = facts.disability_certificate
    found = {"certificate": bool(certificate)}
    if not certificate:
        return RuleCheck("disability", None, found, "disability_unknown")
    return RuleCheck("disability", True, found, "disability_certified")


def evaluate(program: Program, period: str, facts: Facts) -> Trace:
    """Every rule of `program` in force in `period`, judged on `facts` as of the period."""
    first, last = period_bounds(period)
    rule = rule_in_force(program, period)
    checks: list[RuleCheck | None] = [check_in_pgh(facts), check_cse(rule, facts, first)]
    if program.unit == "person":
        checks.append(check_age(rule, facts, first))
    checks += [
        check_household_member(rule, facts, first),
        check_alive(facts, first, last),
        check_incompatible(rule, facts),
        check_one_per_household(rule, facts),
        check_disability(rule, facts),
    ]
    return Trace(
        program=program.code,
        period=period,
        as_of=first,
        rule_version=rule.effective_from,
        checks=tuple(c for c in checks if c is not None),
    )
