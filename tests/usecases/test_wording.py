from datetime import date

import pytest

from rnu.eligibility.evaluate import Facts, HouseholdFacts, Member, Trace, evaluate
from rnu.eligibility.rules import load_programs
from usecases.wording import (
    cse_required,
    explain_lines,
    fecha,
    kind_label,
    sentence,
    verdict,
)

PROGRAMS = load_programs()


def trace_for(program: str, facts: Facts, period: str = "2026-10") -> Trace:
    return evaluate(PROGRAMS[program], period, facts)


def line(program: str, facts: Facts, rule: str, period: str = "2026-10") -> str:
    trace = trace_for(program, facts, period)
    return sentence(program, next(c for c in trace.checks if c.rule == rule))


HH_P = HouseholdFacts("P", date(2024, 8, 12), date(2026, 8, 12))


class TestWording:
    def test_issue_example(self) -> None:
        f = Facts(True, date(1950, 1, 1), household=HouseholdFacts("P", None, date(2026, 8, 12)))
        assert line("PENSION65", f, "cse") == (
            "Pensión 65 requiere CSE pobre extremo; su hogar tiene CSE pobre, "
            "vigente hasta 12/08/2026."
        )

    def test_expired(self) -> None:
        f = Facts(
            True,
            date(1950, 1, 1),
            household=HouseholdFacts("PE", date(2024, 8, 12), date(2026, 8, 12)),
        )
        assert line("PENSION65", f, "cse") == (
            "Pensión 65 requiere CSE pobre extremo vigente al 01/10/2026; su hogar tiene CSE "
            "pobre extremo, vigente del 12/08/2024 al 12/08/2026."
        )

    def test_age(self) -> None:
        f = Facts(True, date(1961, 10, 2), household=HH_P)
        assert line("PENSION65", f, "age") == (
            "Pensión 65 requiere tener 65 años o más; al 01/10/2026 tenía 64 años."
        )
        baby = Facts(True, date(2023, 10, 1), household=HH_P)
        assert line("CUNAMAS", baby, "age") == (
            "Cuna Más requiere tener menos de 36 meses; al 01/10/2026 tenía 36 meses."
        )

    def test_deceased(self) -> None:
        f = Facts(True, date(1950, 1, 1), death_on=date(2026, 9, 30), household=HH_P)
        assert line("SIS", f, "alive") == (
            "RENIEC registra su fallecimiento el 30/09/2026, antes del inicio del periodo "
            "(01/10/2026); SIS Subsidiado no debió incluirla."
        )

    def test_juntos_household(self) -> None:
        f = Facts(
            True,
            date(1980, 1, 1),
            household=HouseholdFacts("P", None, None, (Member(date(1980, 1, 1)),)),
        )
        assert line("JUNTOS", f, "household_member") == (
            "Juntos requiere que en el hogar viva alguien menor de 19 años; al 01/10/2026 "
            "no había nadie menor de 19 años en su hogar."
        )

    def test_incompatible(self) -> None:
        f = Facts(True, date(1950, 1, 1), household=HH_P, other_programs=frozenset({"CONTIGO"}))
        assert line("PENSION65", f, "incompatible") == (
            "Pensión 65 no puede recibirse junto con Contigo; "
            "en este periodo también recibe Contigo."
        )

    def test_every_line_has_a_status_and_no_identifiers(self) -> None:
        f = Facts(False, date(1950, 1, 1))
        lines = explain_lines(trace_for("PENSION65", f))
        assert [s for s, _ in lines] == [
            "No cumple",
            "No se puede verificar",
            "Cumple",
            "Cumple",
            "Cumple",
        ]
        assert verdict(trace_for("PENSION65", f)) == (
            "No cumple las reglas de Pensión 65 para el periodo 2026-10: "
            "no figura en el padrón general de hogares."
        )

    @pytest.mark.parametrize(
        ("codes", "text"), [(["PE"], "pobre extremo"), (["PE", "P"], "pobre extremo o pobre")]
    )
    def test_cse_required(self, codes: list[str], text: str) -> None:
        assert cse_required(codes) == text

    def test_helpers(self) -> None:
        assert fecha("2026-08-12") == "12/08/2026"
        assert kind_label("deceased") == "Persona fallecida antes del periodo"
        assert kind_label("prisoner") == "Figura en la lista externa «prisoner»"


def test_every_match_level_is_worded_in_spanish() -> None:
    """Analysts read a link's field agreements in words: a new level needs its wording."""
    from rnu.matching.scoring import FIELDS
    from usecases.wording import AGREEMENT_LEVELS

    levels = {lv for values in FIELDS.values() for lv in values}
    assert levels <= set(AGREEMENT_LEVELS), sorted(levels - set(AGREEMENT_LEVELS))
