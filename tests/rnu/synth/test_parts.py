import random

import pytest
from stdnum.pe import cui

from rnu.eligibility.rules import load_programs, rule_for
from rnu.synth.defects import DefectInjector, RollRow, mojibake, transpose, typo, wrong_check
from rnu.synth.names import (
    NameBook,
    all_given_names,
    first_tokens,
    surname_weights,
)
from rnu.synth.places import load_districts
from rnu.synth.population import Numbering, check_chars
from rnu.synth.programs import RollState
from rnu.synth.rates import Rates


class TestNames:
    def test_table_sizes(self) -> None:
        assert len(surname_weights("C")) >= 150
        assert len(all_given_names("M")) >= 120
        assert len(all_given_names("F")) >= 120

    def test_particles_enye_and_compounds(self) -> None:
        surnames = set(surname_weights("C"))
        assert {
            "DE LA CRUZ",
            "DEL ÁGUILA",
            "DE LOS SANTOS",
            "ÑAUPARI",
            "NÚÑEZ",
            "MUÑOZ",
        } <= surnames
        assert {"YUPANQUI", "CCAHUANA", "HUAMANÍ", "CONDORI", "TICONA", "CHOQUEHUANCA"} <= surnames
        assert {"MARÍA DEL CARMEN", "ROSA MARÍA"} <= all_given_names("F")
        assert {"JUAN CARLOS", "JOSÉ LUIS"} <= all_given_names("M")

    def test_first_words_tell_sex(self) -> None:
        assert not first_tokens("M") & first_tokens("F")

    @pytest.mark.parametrize("region", ["C", "S", "A", "N"])
    def test_quispe_leads_everywhere_but_the_amazon_favours_del_aguila(self, region: str) -> None:
        weights = surname_weights(region)
        assert max(weights, key=weights.__getitem__) == "QUISPE"
        if region == "A":
            assert weights["DEL ÁGUILA"] > surname_weights("C")["DEL ÁGUILA"] * 5

    def test_mamani_is_southern(self) -> None:
        assert surname_weights("S")["MAMANI"] > 10 * surname_weights("N")["MAMANI"]

    def test_picker_follows_weights(self) -> None:
        book = NameBook()
        rng = random.Random(1)
        draws = [book.surnames["C"].pick(rng) for _ in range(20_000)]
        share = draws.count("QUISPE") / len(draws)
        weights = surname_weights("C")
        assert abs(share - weights["QUISPE"] / sum(weights.values())) < 0.01


class TestDocuments:
    def test_check_chars_match_stdnum(self) -> None:
        for number in ("10117410", "00000001", "45678912", "09999999"):
            digit, letter = check_chars(number)
            assert cui.calc_check_digits(number) == digit + letter

    def test_numbering_is_a_bijection(self) -> None:
        numbering = Numbering.for_seed(5)
        numbers = [numbering.dni(i) for i in range(50_000)]
        assert len(set(numbers)) == len(numbers)
        assert all(numbering.dni_index(n) == i for i, n in enumerate(numbers[:1000]))
        assert not any(numbering.is_unused(n) for n in numbers[:1000])

    def test_wrong_check_is_wrong(self) -> None:
        rng = random.Random(2)
        for _ in range(200):
            number = f"{rng.randrange(10**8):08d}"
            assert not cui.is_valid(number + wrong_check(number, rng))


class TestDefects:
    def test_typo_changes_one_thing(self) -> None:
        rng = random.Random(3)
        for word in ("QUISPE", "MAMANI", "ROSA MARÍA", "ANA"):
            changed = typo(word, rng)
            assert changed != word
            assert abs(len(changed) - len(word)) <= 1

    def test_transpose(self) -> None:
        rng = random.Random(4)
        assert transpose("11111111", rng) is None
        swapped = transpose("12345678", rng)
        assert swapped is not None
        assert sorted(swapped) == sorted("12345678")
        assert sum(a != b for a, b in zip(swapped, "12345678", strict=True)) == 2

    def test_mojibake(self) -> None:
        assert mojibake("MUÑOZ", "latin-1") == "MUÃ\x91OZ"
        assert mojibake("MUÑOZ", "cp1252") == "MUÃ‘OZ"
        assert mojibake("QUISPE", "utf-8") is None
        assert mojibake("ÁLVAREZ", "cp1252") is None  # 0x81 does not exist in cp1252

    def test_injector_rate(self) -> None:
        rates = Rates(typo=0.05, missing_materno=0.05)
        injector = DefectInjector(rates, ("typo", "missing_materno"), "utf-8", random.Random(5))
        found = []
        for _ in range(20_000):
            row = RollRow("1", "01234567", "QUISPE", "MAMANI", "ROSA", 700_000, "F", "150101")
            found += injector.apply(row)
        assert 0.045 < found.count("typo") / 20_000 < 0.055
        assert 0.045 < found.count("missing_materno") / 20_000 < 0.055


class TestPacing:
    def test_case_share_follows_rate(self) -> None:
        rule = rule_for(load_programs()["SIS"], "2026-10")
        state = RollState("SIS", rule, Rates(), "person", random.Random(6))
        rows = 0
        while rows < 50_000:
            if state.want("cse_expired"):
                state.count(["cse_expired"])
            else:
                state.count([])
            rows += 1
        assert abs(state.injected["cse_expired"] / rows - Rates().cse_expired) < 0.0015

    def test_inapplicable_cases(self) -> None:
        rule = rule_for(load_programs()["QALIWARMA"], "2026-10")
        state = RollState("QALIWARMA", rule, Rates(), "person", random.Random(6))
        assert "cse_missing" not in state.q
        assert not state.want("cse_missing")
        assert "age_out_of_range" in state.q


class TestPlaces:
    def test_districts(self) -> None:
        districts = load_districts()
        assert len(districts) > 1800
        weight = {d.inei: d.weight for d in districts}
        total = sum(weight.values())
        metro = sum(w for code, w in weight.items() if code[:4] == "1501" or code[:2] == "07")
        assert 0.25 < metro / total < 0.38
        assert weight["080101"] > 10 * min(weight.values())  # Cusco city vs a small district
