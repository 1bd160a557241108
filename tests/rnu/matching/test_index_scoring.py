"""Index lookups, blocking and the per-field agreement levels."""

from __future__ import annotations

from datetime import date

import numpy as np

from rnu.matching.index import PghIndex, doc_code
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import FIELD_NAMES, FIELDS, compare
from tests.rnu.matching.conftest import BY_KEY, person


def levels_of(index: PghIndex, rec: PersonRecord, key: str) -> dict[str, str]:
    batch = index.encode([rec])
    row = index.keys.index(key)
    comp = compare(index, batch, np.array([0], dtype=np.int32), np.array([row], dtype=np.int32))
    return {f: FIELDS[f][int(v)] for f, v in zip(FIELD_NAMES, comp.levels[0], strict=True)}


class TestDocuments:
    def test_leading_zeros_matter(self) -> None:
        assert doc_code("DNI", "01234567") != doc_code("DNI", "1234567")

    def test_cui_and_dni_share_numbers(self) -> None:
        assert doc_code("CUI", "71234567") == doc_code("1", "71234567")
        assert doc_code("CE", "71234567") != doc_code("DNI", "71234567")

    def test_absent_or_malformed(self) -> None:
        assert doc_code("DNI", None) == -1
        assert doc_code("DNI", "12A45678") == -1

    def test_lookup_finds_every_holder(self) -> None:
        a = person("A", "ANA", "PUMA", "CALLA", date(1990, 1, 1), dni="00001234")
        b = person("B", "ANA", "PUMA", "CALLA", date(1990, 1, 1), dni="00001234")
        c = person("C", "LUZ", "PUMA", "CALLA", date(1991, 1, 1), dni="00001235")
        index = PghIndex.build([a, b, c])
        q, r = index.lookup_documents(index.encode([a, c]), np.array([0, 1], dtype=np.int32))
        assert sorted(zip(q.tolist(), r.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 2)]


class TestBlocking:
    def test_giant_blocks_are_dropped(self) -> None:
        people = [
            person(f"K{i}", f"N{i}", f"S{i}", f"T{i}", date(1900, 1, 1), sex="M") for i in range(30)
        ]
        index = PghIndex.build(people, max_block=20)
        assert index.blocks["dob_sex"].dropped == 1
        assert len(index.blocks["dob_sex"].keys) == 0

    def test_swapped_date_and_surnames_still_meet(self, index: PghIndex) -> None:
        target = BY_KEY["P-DATE"]
        rec = person("Q", "ROSALIA", "ATAUCUSI", "SIHUINCHA", date(1977, 9, 3), sex=None)
        q, r = index.candidates(index.encode([rec]), np.array([0], dtype=np.int32))
        assert index.keys.index(target.key) in r.tolist()

    def test_document_one_slip_away_is_a_candidate_only_when_asked(self) -> None:
        held = [
            person("A", "ROSA", "QUISPE", "MAMANI", date(1980, 1, 1), dni="41234567"),
            person("B", "LUIS", "TORRES", "APAZA", date(1950, 5, 5), dni="07654321"),
        ]
        index = PghIndex.build(held)
        queries = [  # names and dates all different: only the document can bring them together
            person("Q1", "X", "Y", "Z", None, dni="41234576"),  # last two digits swapped
            person("Q2", "X", "Y", "Z", None, dni="41234568"),  # one digit
            person("Q3", "X", "Y", "Z", None, dni="41234599"),  # two digits: another person
            person("Q4", "X", "Y", "Z", None, dni="70654321"),  # the leading zero swapped in
        ]
        batch = index.encode(queries)
        rows = np.arange(len(queries), dtype=np.int32)
        q, r = index.candidate_pairs(batch, rows, document_slips=True)
        found = {
            (queries[a].key, index.keys[b]) for a, b in zip(q.tolist(), r.tolist(), strict=True)
        }
        assert found == {("Q1", "A"), ("Q2", "A"), ("Q4", "B")}
        q, r = index.candidate_pairs(batch, rows)
        assert len(q) == 0

    def test_index_is_compact(self, index: PghIndex) -> None:
        # a handful of ints per person in the numpy columns and thirteen blocks (12 bytes each)
        assert index.memory_bytes() / len(index) < 210


class TestLevels:
    def test_date_levels(self, index: PghIndex) -> None:
        base = BY_KEY["P-DATE"]
        cases = {
            date(1977, 3, 9): "exact",
            date(1977, 9, 3): "day_month_swap",
            date(1977, 3, 8): "one_component",  # a slip in the day
            date(1977, 3, 10): "one_component",  # ... one off
            date(1977, 3, 19): "one_component",  # ... one digit
            date(1977, 3, 22): "within_month",  # another day: no slip, but 13 days apart
            date(1977, 2, 8): "within_month",  # a month and a day off: 29 days
            date(1977, 5, 9): "one_component",  # ... in the month
            date(1971, 3, 9): "one_component",  # ... in the year
            date(1978, 3, 9): "year_off_one",  # 2009 -> 2010 is one year, not "different"
            date(1976, 3, 9): "year_off_one",
            date(1977, 12, 25): "same_year",
            date(1978, 12, 25): "close_year",
            date(1962, 7, 1): "different",  # 15 years apart: a contradiction
            None: "missing",
        }
        for born, expected in cases.items():
            rec = person("Q", base.nombres, "SIHUINCHA", "ATAUCUSI", born, sex="F")
            assert levels_of(index, rec, base.key)["birth_date"] == expected, born

    def test_place_levels(self, index: PghIndex) -> None:
        base = BY_KEY["P-DATE"]  # 050301
        cases = {"050301": "district", "050302": "province", "050101": "department",
                 "150101": "none", None: "missing"}  # fmt: skip
        for ubigeo, expected in cases.items():
            rec = person("Q", "ROSALIA", "SIHUINCHA", "ATAUCUSI", base.birth_date, ubigeo=ubigeo)
            assert levels_of(index, rec, base.key)["ubigeo"] == expected, ubigeo

    def test_a_married_materno_says_nothing_of_the_mother(self, index: PghIndex) -> None:
        base = BY_KEY["P-DATE"]  # ROSALIA SIHUINCHA ATAUCUSI
        cases = {"DE QUISPE": "missing", "DE LA CRUZ": "different", "ATAUCUSI": "exact",
                 "QUISPE": "different"}  # fmt: skip
        for materno, expected in cases.items():
            rec = person("Q", "ROSALIA", "SIHUINCHA", materno, base.birth_date, sex="F")
            assert levels_of(index, rec, base.key)["materno"] == expected, materno

    def test_compound_given_names(self, index: PghIndex) -> None:
        twin = BY_KEY["P-TWIN-A"]  # MARIA ELENA
        cases = {"MARIA ELENA": "exact", "ELENA MARIA": "reordered", "MARIA ELENAA": "one_edit",
                 "MARIA": "subset", "ELENA": "subset", "MA. ELENA": "exact",
                 "MARIA LUISA": "first_only", "LUCIO": "different", None: "missing"}  # fmt: skip
        for nombres, expected in cases.items():
            rec = person("Q", nombres, "ZEVALLOS", "ARCE", twin.birth_date, sex="F")
            assert levels_of(index, rec, twin.key)["nombres"] == expected, nombres

    def test_document_levels(self, index: PghIndex) -> None:
        base = BY_KEY["P-TRANSPOSED"]  # 41234567
        cases = {"41234567": "equal", "41235467": "transposed", "41234568": "one_digit",
                 "87654321": "different", None: "missing"}  # fmt: skip
        for dni, expected in cases.items():
            rec = person("Q", "GLADYS", "PARIONA", "YUCRA", base.birth_date, dni=dni)
            assert levels_of(index, rec, base.key)["document"] == expected, dni
