"""Hard cases through Matcher.match_many against a synthetic PGH with hand-made people."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from rnu.matching.engine import Matcher, MatchResult, Thresholds
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import MatchModel
from tests.rnu.matching.conftest import BY_KEY, person


def one(matcher: Matcher, rec: PersonRecord) -> MatchResult:
    (res,) = matcher.match_many([rec])
    return res


def without_doc(rec: PersonRecord, **changes: Any) -> PersonRecord:
    return replace(rec, key="Q", doc_type=None, doc_number=None, doc_trusted=False, **changes)


class TestExactDocument:
    def test_dni_with_agreeing_names_links_by_document(self, matcher: Matcher) -> None:
        res = one(matcher, replace(BY_KEY["P-CRUZ"], key="Q", nombres="Juan Carlos"))
        assert (res.outcome, res.person_key, res.method) == ("linked", "P-CRUZ", "exact_document")
        assert res.agreements["document"] == "equal"
        assert res.agreements["nombres"] == "exact"
        assert res.weight >= matcher.thresholds.upper

    def test_slip_in_the_given_name_still_links_by_document(self, matcher: Matcher) -> None:
        cruz = BY_KEY["P-CRUZ"]
        res = one(matcher, replace(cruz, key="Q", nombres="JUAM CARLIS"))
        assert (res.outcome, res.person_key, res.method) == ("linked", "P-CRUZ", "exact_document")
        assert res.agreements["nombres"] in {"jw_low", "jw_high"}

    def test_borrowed_dni_of_a_relative_is_not_proof(self, matcher: Matcher) -> None:
        son = BY_KEY["P-SON"]
        rec = replace(son, key="Q", doc_number=BY_KEY["P-FATHER"].doc_number)
        res = one(matcher, rec)
        assert (res.outcome, res.person_key, res.method) == ("linked", "P-SON", "fuzzy")
        assert res.agreements["document"] == "different"

    def test_borrowed_dni_of_someone_absent_is_not_linked(self, matcher: Matcher) -> None:
        rec = person(
            "Q",
            "ROSA",
            "CCORIMANYA",
            "APAZA",
            date(1990, 6, 1),
            sex="F",
            dni=BY_KEY["P-FATHER"].doc_number,
            ubigeo="210101",
        )
        res = one(matcher, rec)
        assert res.outcome != "linked"
        assert res.method != "exact_document"

    def test_typod_dni_pointing_to_a_stranger(self, matcher: Matcher) -> None:
        cruz = BY_KEY["P-CRUZ"]
        rec = replace(cruz, key="Q", doc_number=BY_KEY["P-STRANGER"].doc_number)
        res = one(matcher, rec)
        assert (res.outcome, res.person_key, res.method) == ("linked", "P-CRUZ", "fuzzy")
        assert res.agreements["document"] == "one_digit"  # 40000001 vs 40000006
        assert "P-STRANGER" not in [c.key for c in res.candidates if c.weight >= 0]

    def test_a_typod_dni_explains_a_wrong_birth_date(self, matcher: Matcher) -> None:
        """Names agree, the DNI is one digit off and the birth date years off: two slips of
        one person, not a namesake (no namesake's number is a keystroke from another's)."""
        gladys = BY_KEY["P-TRANSPOSED"]
        rec = replace(gladys, key="Q", doc_number="41234568", birth_date=date(1968, 4, 2))
        res = one(matcher, rec)
        assert (res.outcome, res.person_key) == ("linked", "P-TRANSPOSED")
        assert res.agreements["document"] == "one_digit"
        assert res.agreements["birth_date"] == "different"

    def test_a_twins_consecutive_dni_does_not_explain_another_given_name(
        self, matcher: Matcher
    ) -> None:
        twin = BY_KEY["P-TWIN-B"]  # DNI 40000003: her sister's is 40000002
        rec = replace(twin, key="Q", nombres="ROSA", doc_number="40000004", doc_trusted=True)
        res = one(matcher, rec)
        assert res.outcome != "linked"

    def test_transposed_digits_with_failed_check(self, matcher: Matcher) -> None:
        rec = replace(BY_KEY["P-TRANSPOSED"], key="Q", doc_number="41235467", doc_trusted=False)
        res = one(matcher, rec)
        assert (res.outcome, res.person_key, res.method) == ("linked", "P-TRANSPOSED", "fuzzy")
        assert res.agreements["document"] == "transposed"


class TestFuzzy:
    def test_compound_surname_with_particles(self, matcher: Matcher) -> None:
        res = one(matcher, without_doc(BY_KEY["P-CRUZ"], apellido_paterno="DELA CRUZ"))
        assert (res.outcome, res.person_key) == ("linked", "P-CRUZ")
        assert res.agreements["paterno"] in {"phonetic", "one_edit", "jw_high"}

    def test_swapped_surnames(self, matcher: Matcher) -> None:
        res = one(
            matcher,
            without_doc(BY_KEY["P-CRUZ"], apellido_paterno="HUAMAN", apellido_materno="DE LA CRUZ"),
        )
        assert (res.outcome, res.person_key) == ("linked", "P-CRUZ")
        assert res.agreements["swapped"] == "swapped"
        assert res.agreements["paterno"] == "exact"

    def test_missing_materno(self, matcher: Matcher) -> None:
        res = one(matcher, without_doc(BY_KEY["P-DATE"], apellido_materno=None))
        assert (res.outcome, res.person_key) == ("linked", "P-DATE")
        assert res.agreements["materno"] == "missing"

    def test_day_month_swapped(self, matcher: Matcher) -> None:
        res = one(matcher, without_doc(BY_KEY["P-DATE"], birth_date=date(1977, 9, 3)))
        assert (res.outcome, res.person_key) == ("linked", "P-DATE")
        assert res.agreements["birth_date"] == "day_month_swap"

    def test_mojibake_names(self, matcher: Matcher) -> None:
        rec = without_doc(BY_KEY["P-NUNEZ"], nombres="Ã‘USTA", apellido_paterno="NÃšÃ‘EZ")
        res = one(matcher, rec)
        assert (res.outcome, res.person_key) == ("linked", "P-NUNEZ")
        assert res.agreements["paterno"] == "exact"
        assert res.agreements["nombres"] == "exact"

    def test_huaman_guaman(self, matcher: Matcher) -> None:
        res = one(matcher, without_doc(BY_KEY["P-HUAMAN"], apellido_paterno="GUAMAN"))
        assert (res.outcome, res.person_key) == ("linked", "P-HUAMAN")
        assert res.agreements["paterno"] == "phonetic"

    def test_twins_are_not_merged(self, matcher: Matcher) -> None:
        a = one(matcher, without_doc(BY_KEY["P-TWIN-A"]))
        b = one(matcher, without_doc(BY_KEY["P-TWIN-B"]))
        assert (a.outcome, a.person_key) == ("linked", "P-TWIN-A")
        assert (b.outcome, b.person_key) == ("linked", "P-TWIN-B")

    def test_a_sisters_name_is_not_a_slip_of_her_brothers(self, matcher: Matcher) -> None:
        """FELICIANA, a woman, is not FELICIANO with a typo: one letter and the sex apart
        is a brother's and sister's pair of names (boy-and-girl twins are common)."""
        huaman = BY_KEY["P-HUAMAN"]  # FELICIANO, M
        res = one(matcher, without_doc(huaman, nombres="FELICIANA", sex="F"))
        assert res.outcome != "linked"
        # the same slip with the sex unknown is still his name
        slip = one(matcher, without_doc(huaman, nombres="FELICIANA", sex=None))
        assert (slip.outcome, slip.person_key) == ("linked", "P-HUAMAN")

    def test_ambiguous_twin_goes_to_review_with_both(self, matcher: Matcher) -> None:
        res = one(matcher, without_doc(BY_KEY["P-TWIN-A"], nombres="MARIA"))
        assert res.outcome == "review"
        assert {c.key for c in res.candidates[:2]} == {"P-TWIN-A", "P-TWIN-B"}
        assert res.candidates[0].weight - res.candidates[1].weight < matcher.thresholds.margin

    def test_stranger_is_unmatched(self, matcher: Matcher) -> None:
        rec = person("Q", "ZENOBIA", "KOWALSKI", "NAKAMURA", date(1932, 12, 30), ubigeo="250101")
        res = one(matcher, rec)
        assert (res.outcome, res.person_key, res.method) == ("unmatched", None, "none")

    def test_results_keep_input_order(self, matcher: Matcher) -> None:
        recs = [without_doc(BY_KEY[k]) for k in ("P-DATE", "P-HUAMAN", "P-NUNEZ")]
        recs.append(BY_KEY["P-CRUZ"])
        res = matcher.match_many(recs)
        assert [r.person_key for r in res] == ["P-DATE", "P-HUAMAN", "P-NUNEZ", "P-CRUZ"]
        assert [r.method for r in res] == ["fuzzy", "fuzzy", "fuzzy", "exact_document"]


class TestThresholds:
    def test_override_from_config(self) -> None:
        th = Thresholds(upper=20.0, lower=5.0, margin=6.0)
        assert th.override({"upper": 25.0}) == Thresholds(upper=25.0, lower=5.0, margin=6.0)

    def test_out_of_order_is_refused(self) -> None:
        with pytest.raises(ValueError, match="out of order"):
            Thresholds(upper=1.0, lower=2.0, margin=6.0)

    def test_unknown_setting_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown threshold"):
            Thresholds(upper=2.0, lower=1.0, margin=6.0).override({"uper": 3.0})


class TestWithoutBirthDate:
    def test_row_without_birth_date_or_document_is_found_by_names_and_place(
        self, matcher: Matcher
    ) -> None:
        # FISE sends no birth date; a wrong or missing document leaves only names and place.
        cruz = BY_KEY["P-CRUZ"]
        res = one(matcher, without_doc(cruz, birth_date=None))
        assert res.outcome in {"linked", "review"}
        assert cruz.key in {res.person_key, *(c.key for c in res.candidates)}


class TestNamesWrittenOtherwise:
    def test_given_name_written_as_an_initial(self, matcher: Matcher) -> None:
        son = BY_KEY["P-SON"]  # LUIS ALBERTO CCORIMANYA TICONA
        res = one(matcher, without_doc(son, nombres="L. ALBERTO"))
        assert (res.outcome, res.person_key) == ("linked", son.key)
        assert res.agreements["nombres"] == "subset"

    def test_an_initial_that_names_someone_else_does_not_agree(self, matcher: Matcher) -> None:
        son = BY_KEY["P-SON"]
        res = one(matcher, without_doc(son, nombres="L. ALFREDO"))
        assert not (res.outcome == "linked" and res.person_key == son.key)

    def test_paterno_moved_into_the_given_names(self, matcher: Matcher) -> None:
        cruz = BY_KEY["P-CRUZ"]  # JUAN CARLOS | DE LA CRUZ | HUAMAN
        moved = without_doc(cruz, nombres="DE LA CRUZ JUAN", apellido_paterno="CARLOS")
        res = one(matcher, moved)
        assert (res.outcome, res.person_key) == ("linked", cruz.key)
        assert res.agreements["swapped"] == "given_swapped"
        assert res.agreements["nombres"] == "reordered"

    def test_same_words_do_not_outweigh_another_birth_date(self, matcher: Matcher) -> None:
        cruz = BY_KEY["P-CRUZ"]
        moved = without_doc(
            cruz, nombres="DE LA CRUZ JUAN", apellido_paterno="CARLOS", birth_date=date(1995, 2, 1)
        )
        res = one(matcher, moved)
        assert not (res.outcome == "linked" and res.person_key == cruz.key)


class TestCappedCandidatesKeepTheirOrder:
    def test_names_alone_go_to_review_with_the_likelier_person_first(
        self, pgh: list[PersonRecord], fitted: tuple[MatchModel, Thresholds]
    ) -> None:
        """No date, no document: both are capped at review, but the one whose given name
        and sex agree must rank above the sister (a tie showed whichever came first)."""
        sister = person("SISTER", "NANCY", "SANCHEZ", "DEL AGUILA", date(2006, 5, 11),
                        dni="79432048", sex="F", ubigeo="010101")  # fmt: skip
        mateo = person("MATEO", "MATEO", "SANCHEZ", "DEL AGUILA", date(2016, 1, 22),
                       dni="01249447", sex="M", ubigeo="010101")  # fmt: skip
        index = PghIndex.build([*pgh[:3000], sister, mateo])
        matcher = Matcher(index, *fitted)
        query = without_doc(mateo, birth_date=None)
        res = one(matcher, query)
        assert res.outcome == "review"
        assert [c.key for c in res.candidates[:2]] == ["MATEO", "SISTER"]
        assert res.candidates[0].weight > res.candidates[1].weight


class TestSecondPass:
    def test_a_given_name_slip_with_a_wrong_year_is_still_found(
        self, pgh: list[PersonRecord], fitted: tuple[MatchModel, Thresholds]
    ) -> None:
        """No first-pass rule holds both (a slip in the given name, the year wrong, another
        department): the second-pass rule on surnames and month-day does."""
        held = person("ORLANDO", "ORLANDO", "RUIZ", "DIAZ", date(1980, 2, 9), dni="28692670",
                      ubigeo="100201")  # fmt: skip
        index = PghIndex.build([*pgh[:3000], held])
        matcher = Matcher(index, *fitted)
        query = without_doc(held, nombres="OELANDO", birth_date=date(1979, 2, 9),
                            ubigeo="150128")  # fmt: skip
        res = one(matcher, query)
        assert "ORLANDO" in {c.key for c in res.candidates}
