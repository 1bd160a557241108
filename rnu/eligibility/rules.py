"""Load the programs' eligibility rules from the packaged rules.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from rnu.errors import InvalidPeriod, NoRuleInForce
from rnu.period import Period

UNITS = ("person", "household")


@dataclass(frozen=True, slots=True)
class Rule:
    """One version of a program's rule, in force from `effective_from` to `effective_to`."""

    effective_from: str
    effective_to: str | None
    cse_required: tuple[str, ...]
    cse_must_be_valid: bool
    min_age_years: int | None = None
    max_age_years: int | None = None
    max_age_months: int | None = None
    incompatible_with: tuple[str, ...] = ()
    one_per_household: bool = False
    household_needs_member_under: int | None = None
    requires_severe_disability: bool = False
    forbidden_lists: tuple[str, ...] = ()  # outside lists (`rnu crosscheck --kind`) it breaks

    def in_force(self, period: str) -> bool:
        """Periods compare as strings because they are zero-padded YYYY-MM."""
        return self.effective_from <= period and (
            self.effective_to is None or period <= self.effective_to
        )


@dataclass(frozen=True, slots=True)
class Program:
    """A social program and its rule versions, oldest first."""

    code: str
    name: str
    sector: str
    unit: str
    file: str
    rules: tuple[Rule, ...]

    @property
    def yearly(self) -> bool:
        """One roll a year (Beca 18: periods "YYYY"), not one a month ("YYYY-MM")."""
        return "{yyyymm}" not in self.file

    def file_name(self, period: str) -> str:
        """The roll's file name for a period (Beca 18 is yearly, the others monthly)."""
        parsed = Period.parse(period)
        return self.file.format(yyyymm=str(parsed).replace("-", ""), yyyy=f"{parsed.year:04d}")


def _check_period(value: str, where: str) -> str:
    """A monthly period (rule versions start and end on months); InvalidPeriod otherwise."""
    try:
        if not Period.parse(value).is_yearly:
            return value
    except InvalidPeriod:
        pass
    raise InvalidPeriod(f"{where}: {value!r} is not a period YYYY-MM")


def _rule(code: str, raw: dict[str, Any]) -> Rule:
    start = _check_period(str(raw["effective_from"]), f"{code}.effective_from")
    end_raw = str(raw.get("effective_to", ""))
    end = _check_period(end_raw, f"{code}.effective_to") if end_raw else None
    return Rule(
        effective_from=start,
        effective_to=end,
        cse_required=tuple(raw.get("cse_required", ())),
        cse_must_be_valid=bool(raw.get("cse_must_be_valid", False)),
        min_age_years=raw.get("min_age_years"),
        max_age_years=raw.get("max_age_years"),
        max_age_months=raw.get("max_age_months"),
        incompatible_with=tuple(raw.get("incompatible_with", ())),
        one_per_household=bool(raw.get("one_per_household", False)),
        household_needs_member_under=raw.get("household_needs_member_under"),
        requires_severe_disability=bool(raw.get("requires_severe_disability", False)),
        forbidden_lists=tuple(raw.get("forbidden_lists", ())),
    )


def parse_programs(text: str) -> dict[str, Program]:
    """Parse rules TOML text; raise ValueError when versions overlap or fields are wrong."""
    data = tomllib.loads(text)
    programs: dict[str, Program] = {}
    for code, raw in data["programs"].items():
        if raw["unit"] not in UNITS:
            raise ValueError(f"{code}: unit must be one of {UNITS}")
        rules = tuple(
            sorted((_rule(code, r) for r in raw["rules"]), key=lambda r: r.effective_from)
        )
        for before, after in zip(rules, rules[1:], strict=False):
            if before.effective_to is None or before.effective_to >= after.effective_from:
                raise ValueError(f"{code}: rule versions overlap at {after.effective_from}")
        programs[code] = Program(
            code=code,
            name=raw["name"],
            sector=raw["sector"],
            unit=raw["unit"],
            file=raw["file"],
            rules=rules,
        )
    for program in programs.values():
        for rule in program.rules:
            unknown = set(rule.incompatible_with) - programs.keys()
            if unknown:
                raise ValueError(f"{program.code}: unknown incompatible programs {unknown}")
    return programs


@lru_cache(maxsize=1)
def load_programs() -> dict[str, Program]:
    """The packaged programs by code; cached because the file only changes with a release."""
    text = resources.files("rnu.eligibility").joinpath("rules.toml").read_text(encoding="utf-8")
    return parse_programs(text)


def rule_for(program: Program, period: str) -> Rule:
    """The rule version in force in the month `period`; NoRuleInForce when the program did not
    exist yet (InvalidPeriod when `period` is not a month)."""
    _check_period(period, "period")
    for rule in program.rules:
        if rule.in_force(period):
            return rule
    raise NoRuleInForce(f"{program.code} has no rule in force in {period}")
