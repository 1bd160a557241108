import pytest

from rnu.eligibility.rules import Program, load_programs, parse_programs, rule_for

CODES = {"JUNTOS", "PENSION65", "QALIWARMA", "CUNAMAS", "CONTIGO", "FISE", "BECA18", "SIS"}


class TestLoadPrograms:
    def test_all_programs_present(self) -> None:
        programs = load_programs()
        assert set(programs) == CODES
        assert all(isinstance(p, Program) for p in programs.values())

    def test_units(self) -> None:
        programs = load_programs()
        household = {c for c, p in programs.items() if p.unit == "household"}
        assert household == {"JUNTOS", "FISE"}

    def test_file_names(self) -> None:
        programs = load_programs()
        assert programs["PENSION65"].file_name("2026-10") == "pension65_202610.xlsx"
        assert programs["BECA18"].file_name("2026-10") == "beca18_2026.xlsx"
        assert programs["SIS"].file_name("2026-10") == "sis_202610.csv.gz"

    def test_rules_as_issue_states(self) -> None:
        programs = load_programs()
        p65 = rule_for(programs["PENSION65"], "2026-10")
        assert (p65.cse_required, p65.min_age_years, p65.incompatible_with) == (
            ("PE",),
            65,
            ("CONTIGO",),
        )
        juntos = rule_for(programs["JUNTOS"], "2026-10")
        assert juntos.household_needs_member_under == 19
        assert juntos.one_per_household
        assert rule_for(programs["QALIWARMA"], "2026-10").cse_required == ()
        assert rule_for(programs["CUNAMAS"], "2026-10").max_age_months == 36
        assert rule_for(programs["BECA18"], "2026-10").max_age_years == 22
        assert rule_for(programs["CONTIGO"], "2026-10").requires_severe_disability

    def test_cached(self) -> None:
        assert load_programs() is load_programs()


class TestRuleFor:
    @pytest.mark.parametrize(
        ("period", "must_be_valid"),
        [("2015-06", False), ("2018-12", False), ("2019-01", True), ("2026-10", True)],
    )
    def test_picks_version_by_period(self, period: str, must_be_valid: bool) -> None:
        rule = rule_for(load_programs()["PENSION65"], period)
        assert rule.cse_must_be_valid is must_be_valid

    def test_before_program_existed(self) -> None:
        with pytest.raises(LookupError):
            rule_for(load_programs()["PENSION65"], "2010-01")

    def test_bad_period(self) -> None:
        with pytest.raises(ValueError, match="period"):
            rule_for(load_programs()["SIS"], "202610")


class TestParsePrograms:
    def test_overlapping_versions_rejected(self) -> None:
        text = """
[programs.X]
name = "X"
sector = "S"
unit = "person"
file = "x.csv"
[[programs.X.rules]]
effective_from = "2010-01"
effective_to = "2020-01"
cse_required = []
[[programs.X.rules]]
effective_from = "2019-01"
effective_to = ""
cse_required = []
"""
        with pytest.raises(ValueError, match="overlap"):
            parse_programs(text)

    def test_unknown_incompatible_rejected(self) -> None:
        text = """
[programs.X]
name = "X"
sector = "S"
unit = "person"
file = "x.csv"
[[programs.X.rules]]
effective_from = "2010-01"
cse_required = []
incompatible_with = ["NOPE"]
"""
        with pytest.raises(ValueError, match="unknown"):
            parse_programs(text)
