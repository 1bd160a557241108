"""The Fellegi–Sunter model: EM, term frequencies, contradictions, swaps, married forms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from rnu.matching.calibrate import _start_m, em, estimate_u
from rnu.matching.engine import Matcher, Thresholds
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import COL, FIELD_NAMES, FIELDS, MatchModel, compare, level
from rnu.normalize.names import birth_surname, split_full_name
from tests.rnu.matching.conftest import BY_KEY, person
from tests.rnu.matching.test_index_scoring import levels_of


def _one(matcher: Matcher, rec: PersonRecord):
    (res,) = matcher.match_many([rec])
    return res


class TestEM:
    def test_recovers_m_and_prior_of_a_labelled_mixture(self) -> None:
        """Patterns drawn from known m, u and prior: EM gets them back without the labels."""
        rng = np.random.default_rng(3)
        width = max(len(v) for v in FIELDS.values())
        true_m = _start_m()
        u = np.zeros_like(true_m)
        for i, f in enumerate(FIELD_NAMES):
            real = [j for j, lv in enumerate(FIELDS[f]) if lv != "missing"]
            u[i, real] = 1.0 / len(real)
            true_m[i, real] = np.linspace(1.0, 0.05, len(real)) ** 3
            true_m[i] /= true_m[i].sum()
        n, prior = 40_000, 0.2
        is_match = rng.random(n) < prior
        levels = np.zeros((n, len(FIELD_NAMES)), dtype=np.int8)
        for i in range(len(FIELD_NAMES)):
            levels[is_match, i] = rng.choice(width, is_match.sum(), p=true_m[i])
            levels[~is_match, i] = rng.choice(width, (~is_match).sum(), p=u[i])
        m, fitted_prior, iters = em(levels, u)
        assert abs(fitted_prior - prior) < 0.01
        paterno = COL["paterno"]
        assert abs(m[paterno, 0] - true_m[paterno, 0]) < 0.02
        assert iters < 100

    def test_ignored_fields_keep_their_starting_m(self) -> None:
        rng = np.random.default_rng(1)
        levels = rng.integers(0, 3, size=(500, len(FIELD_NAMES))).astype(np.int8)
        u = np.full_like(_start_m(), 0.2)
        m, _, _ = em(levels, u, ignore=frozenset({"birth_date"}))
        assert (m[COL["birth_date"]] == _start_m()[COL["birth_date"]]).all()


class TestTermFrequency:
    def test_common_surname_weighs_less_than_a_rare_one(self) -> None:
        common = [
            person(f"C{i}", f"NOMBRE{i}", "QUISPE", f"MAT{i}", date(1970, 1, 1), sex="M")
            for i in range(200)
        ]
        rare = person("R", "JUAN", "ZZYZXWARA", "MAMANI", date(1980, 5, 5))
        common_target = person("T", "JUAN", "QUISPE", "MAMANI", date(1980, 5, 5))
        index = PghIndex.build([*common, rare, common_target])
        batch = index.encode([rare, common_target])
        u = estimate_u(index, batch, pairs=5_000)
        model = MatchModel(m=_dicts(_start_m()), u=_dicts(u), prior=0.1)
        matcher = Matcher(index, model, Thresholds(upper=10, lower=2, margin=6))
        q = np.array([0, 1], dtype=np.int32)
        r = np.array([index.keys.index("R"), index.keys.index("T")], dtype=np.int32)
        _, weights = matcher.scorer.score(batch, q, r)
        # same levels everywhere; only the paterno's frequency differs
        assert weights[0] - weights[1] > 5


def _dicts(table: np.ndarray) -> dict[str, dict[str, float]]:
    return {
        f: {lv: float(table[i, j]) for j, lv in enumerate(FIELDS[f]) if lv != "missing"}
        for i, f in enumerate(FIELD_NAMES)
    }


class TestContradictions:
    def test_namesake_trap_is_not_linked(self, matcher: Matcher) -> None:
        """Someone not in the PGH with a PGH person's exact name and district, another valid
        DNI and a birth date 15 years apart is not that person."""
        target = BY_KEY["P-CRUZ"]
        trap = replace(
            target, key="Q", doc_number="45555555", birth_date=date(1995, 8, 2), doc_trusted=True
        )
        res = _one(matcher, trap)
        assert res.outcome == "unmatched"
        assert res.person_key is None

    def test_namesake_without_document_goes_to_review_at_most(self, matcher: Matcher) -> None:
        target = BY_KEY["P-CRUZ"]
        trap = replace(
            target, key="Q", doc_type=None, doc_number=None, doc_trusted=False,
            birth_date=date(1995, 8, 2),
        )  # fmt: skip
        assert _one(matcher, trap).outcome != "linked"

    def test_father_and_son_with_one_name_are_told_apart(self, index: PghIndex) -> None:
        father = person("F", "PEDRO", "CCORIMANYA", "APAZA", date(1960, 1, 9), dni="47000004")
        son = person("S", "PEDRO", "CCORIMANYA", "APAZA", date(1990, 6, 1), dni="47100004")
        comp = levels_of(PghIndex.build([father]), son, "F")
        assert comp["birth_date"] == "different"

    def test_neighbours_dni_on_the_right_person_still_links(self, matcher: Matcher) -> None:
        """A different document alone does not block: the names and date are this person."""
        date_person = BY_KEY["P-DATE"]
        rec = replace(date_person, key="Q", doc_number="40000006")  # P-STRANGER's DNI
        res = _one(matcher, rec)
        assert (res.outcome, res.person_key) == ("linked", "P-DATE")

    def test_an_equal_document_never_lowers_the_outcome(self, matcher: Matcher) -> None:
        base = BY_KEY["P-HUAMAN"]
        noisy = replace(base, key="Q", nombres="FELISIANO", birth_date=date(1955, 8, 16))
        without = _one(matcher, replace(noisy, doc_type=None, doc_number=None, doc_trusted=False))
        with_doc = _one(matcher, noisy)
        assert with_doc.person_key == "P-HUAMAN"
        assert with_doc.weight > without.weight
        order = {"linked": 2, "review": 1, "unmatched": 0}
        assert order[with_doc.outcome] >= order[without.outcome]


class TestSwaps:
    def test_given_name_and_paterno_in_each_others_columns(self, matcher: Matcher) -> None:
        date_person = BY_KEY["P-DATE"]
        rec = replace(
            date_person, key="Q", doc_type=None, doc_number=None, doc_trusted=False,
            nombres="SIHUINCHA", apellido_paterno="ROSALIA",
        )  # fmt: skip
        res = _one(matcher, rec)
        assert (res.outcome, res.person_key) == ("linked", "P-DATE")
        assert res.agreements["swapped"] == "given_swapped"
        assert res.agreements["nombres"] == "exact"

    def test_swap_is_found_without_a_birth_date(self, index: PghIndex) -> None:
        date_person = BY_KEY["P-DATE"]
        rec = replace(
            date_person, key="Q", nombres="SIHUINCHA", apellido_paterno="ROSALIA",
            birth_date=None,
        )  # fmt: skip
        q, r = index.candidates(index.encode([rec]), np.array([0], dtype=np.int32))
        assert index.keys.index("P-DATE") in r.tolist()


class TestMarriedForms:
    def test_widow_form_in_a_one_field_name(self) -> None:
        parts = split_full_name("JUANA CLARA MINAYA VDA. DE INGA", "NOMBRES PATERNO MATERNO")
        assert (parts.nombres, parts.apellido_paterno, parts.apellido_materno) == (
            "JUANA CLARA",
            "MINAYA",
            None,
        )

    def test_married_de_form_and_a_real_de_la_surname(self) -> None:
        married = split_full_name("MARIA PEREZ DE GARCIA", "NOMBRES PATERNO MATERNO")
        assert (married.apellido_paterno, married.apellido_materno) == ("PEREZ", None)
        real = split_full_name("ROSA QUISPE DE LA CRUZ", "NOMBRES PATERNO MATERNO")
        assert (real.apellido_paterno, real.apellido_materno) == ("QUISPE", "DE LA CRUZ")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("VDA. DE INGA", ""), ("MINAYA VDA DE INGA", "MINAYA"), ("DE LA CRUZ", "DE LA CRUZ")],
    )
    def test_birth_surname(self, text: str, expected: str) -> None:
        assert birth_surname(text) == expected

    def test_married_materno_field_is_neutral_not_different(self, index: PghIndex) -> None:
        target = BY_KEY["P-DATE"]
        rec = replace(target, key="Q", apellido_materno="VDA. DE QUISPE")
        assert levels_of(index, rec, target.key)["materno"] == "missing"


class TestMissingValues:
    def test_record_without_names_or_date_is_compared_without_error(self, index: PghIndex) -> None:
        rec = PersonRecord("Q", "DNI", "40000010", True, None, None, None, None, None, None)
        batch = index.encode([rec])
        comp = compare(index, batch, np.array([0], dtype=np.int32), np.array([0], dtype=np.int32))
        for f in ("paterno", "materno", "nombres", "birth_date", "sex", "ubigeo"):
            assert comp.levels[0, COL[f]] == level(f, "missing"), f
