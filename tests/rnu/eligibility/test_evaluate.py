from datetime import date

import pytest

from rnu.eligibility.evaluate import (
    Facts,
    HouseholdFacts,
    Member,
    RuleCheck,
    evaluate,
    period_bounds,
    rule_in_force,
)
from rnu.eligibility.rules import load_programs

PROGRAMS = load_programs()


def household(
    cse: str | None = "PE",
    valid_from: date | None = date(2025, 1, 1),
    valid_to: date | None = date(2028, 1, 1),
    members: tuple[Member, ...] = (),
) -> HouseholdFacts:
    return HouseholdFacts(cse, valid_from, valid_to, members)


def facts(**overrides: object) -> Facts:
    values: dict[str, object] = {
        "in_pgh": True,
        "birth_on": date(1950, 3, 3),
        "household": household(),
    }
    values.update(overrides)
    return Facts(**values)  # type: ignore[arg-type]


def check(program: str, period: str, f: Facts, rule: str) -> RuleCheck:
    trace = evaluate(PROGRAMS[program], period, f)
    found = [c for c in trace.checks if c.rule == rule]
    assert len(found) == 1, [c.rule for c in trace.checks]
    return found[0]


class TestPeriodBounds:
    @pytest.mark.parametrize(
        ("period", "first", "last"),
        [
            ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
            ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
            ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ],
    )
    def test_bounds(self, period: str, first: date, last: date) -> None:
        assert period_bounds(period) == (first, last)

    @pytest.mark.parametrize("period", ["2026-13", "202610", "26-10", ""])
    def test_malformed(self, period: str) -> None:
        with pytest.raises(ValueError, match="not a period"):
            period_bounds(period)

    def test_yearly_period_uses_the_rule_of_january(self) -> None:
        assert rule_in_force(PROGRAMS["BECA18"], "2026").effective_from == "2012-01"


class TestAge:
    @pytest.mark.parametrize(
        ("birth", "passed", "age"),
        [
            (date(1961, 10, 1), True, 65),  # 65th birthday on the period's first day counts
            (date(1961, 10, 2), False, 64),  # one day later: still 64 when the period opens
            (date(1940, 1, 1), True, 86),
        ],
    )
    def test_pension65_minimum(self, birth: date, passed: bool, age: int) -> None:
        c = check("PENSION65", "2026-10", facts(birth_on=birth), "age")
        assert (c.passed, c.facts["age_years"], c.code) == (
            passed,
            age,
            "age_ok" if passed else "age_out_of_range",
        )

    @pytest.mark.parametrize(
        ("birth", "passed", "months"),
        [
            (date(2023, 10, 1), False, 36),  # turns 36 months on the first day: out
            (date(2023, 10, 2), True, 35),
            (date(2026, 10, 15), True, 0),  # born during the period
        ],
    )
    def test_cunamas_months(self, birth: date, passed: bool, months: int) -> None:
        c = check("CUNAMAS", "2026-10", facts(birth_on=birth), "age")
        assert (c.passed, c.facts["age_months"]) == (passed, months)

    def test_unknown_birth_date_cannot_be_verified(self) -> None:
        c = check("PENSION65", "2026-10", facts(birth_on=None), "age")
        assert (c.passed, c.code) == (None, "age_unknown")

    def test_programs_without_age_limit_have_no_age_check(self) -> None:
        trace = evaluate(PROGRAMS["SIS"], "2026-10", facts())
        assert "age" not in [c.rule for c in trace.checks]


class TestCse:
    @pytest.mark.parametrize(
        ("valid_from", "valid_to", "code"),
        [
            (date(2024, 1, 1), date(2026, 10, 15), "cse_ok"),  # expires mid-period: covers it
            (date(2024, 1, 1), date(2026, 10, 1), "cse_ok"),  # expires on the first day
            (date(2024, 1, 1), date(2026, 9, 30), "cse_expired"),  # expired the day before
            (date(2026, 10, 2), date(2029, 1, 1), "cse_expired"),  # starts after the first day
            (None, None, "cse_ok"),  # an open window is no limit
        ],
    )
    def test_validity_on_first_day(
        self, valid_from: date | None, valid_to: date | None, code: str
    ) -> None:
        f = facts(household=household("PE", valid_from, valid_to))
        assert check("PENSION65", "2026-10", f, "cse").code == code

    def test_class_not_qualifying(self) -> None:
        c = check("PENSION65", "2026-10", facts(household=household("P")), "cse")
        assert (c.passed, c.code, c.facts["required"], c.facts["cse"]) == (
            False,
            "cse_not_qualifying",
            ["PE"],
            "P",
        )

    def test_never_evaluated(self) -> None:
        c = check("JUNTOS", "2026-10", facts(household=household(None, None, None)), "cse")
        assert (c.passed, c.code) == (False, "cse_missing")

    def test_qaliwarma_has_no_cse_requirement(self) -> None:
        c = check("QALIWARMA", "2026-10", facts(household=household(None)), "cse")
        assert (c.passed, c.code) == (True, "cse_not_required")

    def test_past_period_judged_by_the_rule_then_in_force(self) -> None:
        expired = facts(household=household("PE", date(2010, 1, 1), date(2012, 1, 1)))
        old = check("PENSION65", "2018-06", expired, "cse")
        new = check("PENSION65", "2019-01", expired, "cse")
        assert (old.passed, old.facts["must_be_valid"]) == (True, False)
        assert (new.passed, new.code) == (False, "cse_expired")
        assert evaluate(PROGRAMS["PENSION65"], "2018-06", expired).rule_version == "2011-10"

    def test_program_not_yet_existing(self) -> None:
        with pytest.raises(LookupError):
            evaluate(PROGRAMS["CONTIGO"], "2014-01", facts())


class TestAlive:
    @pytest.mark.parametrize(
        ("death", "passed", "code"),
        [
            (None, True, "alive"),
            (date(2026, 9, 30), False, "deceased"),  # died before the period opened
            (date(2026, 10, 1), True, "died_during_period"),  # alive when it opened
            (date(2026, 10, 31), True, "died_during_period"),  # death on the last day
            (date(2026, 11, 1), True, "died_after_period"),
        ],
    )
    def test_death(self, death: date | None, passed: bool, code: str) -> None:
        c = check("SIS", "2026-10", facts(death_on=death), "alive")
        assert (c.passed, c.code) == (passed, code)


class TestJuntosHousehold:
    @pytest.mark.parametrize(
        ("members", "passed", "youngest"),
        [
            ((Member(date(1980, 1, 1)), Member(date(2007, 10, 2))), True, 18),
            ((Member(date(1980, 1, 1)), Member(date(2007, 10, 1))), False, 19),  # 19 on day 1
            ((Member(date(1980, 1, 1)), Member(date(2015, 1, 1), date(2026, 9, 1))), False, 46),
            ((Member(date(1980, 1, 1)), Member(date(2015, 1, 1), date(2026, 10, 20))), True, 11),
        ],
    )
    def test_member_under_19(
        self, members: tuple[Member, ...], passed: bool, youngest: int
    ) -> None:
        f = facts(household=household("P", members=members))
        c = check("JUNTOS", "2026-10", f, "household_member")
        assert (c.passed, c.facts["youngest_age"]) == (passed, youngest)
        assert c.kind == (None if passed else "age_out_of_range")

    def test_household_programs_do_not_check_the_titulars_age(self) -> None:
        trace = evaluate(PROGRAMS["FISE"], "2026-10", facts(birth_on=date(2020, 1, 1)))
        assert "age" not in [c.rule for c in trace.checks]

    def test_two_titulars(self) -> None:
        c = check("FISE", "2026-10", facts(household_titulars=2), "one_per_household")
        assert (c.passed, c.code) == (False, "household_twice")


class TestOthers:
    def test_not_in_pgh_leaves_cse_unverifiable(self) -> None:
        trace = evaluate(PROGRAMS["SIS"], "2026-10", facts(in_pgh=False, household=None))
        assert trace.kinds == ["not_in_pgh"]
        cse = next(c for c in trace.checks if c.rule == "cse")
        assert (cse.passed, cse.code) == (None, "cse_unknown")

    def test_incompatible_programs(self) -> None:
        f = facts(other_programs=frozenset({"CONTIGO", "SIS"}))
        c = check("PENSION65", "2026-10", f, "incompatible")
        assert (c.passed, c.facts["also_in"]) == (False, ["CONTIGO"])

    def test_eligible_person(self) -> None:
        trace = evaluate(PROGRAMS["PENSION65"], "2026-10", facts())
        assert (trace.eligible, trace.kinds, trace.as_of) == (True, [], date(2026, 10, 1))

    def test_contigo_disability_unverifiable_without_certificate(self) -> None:
        trace = evaluate(PROGRAMS["CONTIGO"], "2026-10", facts(household=household("P")))
        assert trace.eligible is None
        certified = facts(household=household("P"), disability_certificate="CONADIS N° 1")
        assert evaluate(PROGRAMS["CONTIGO"], "2026-10", certified).eligible is True
