"""Row acceptance: matching gets what a row has; only an unidentifiable row is refused.

Issue 10 (cause 6): rows with a blank given name or surname, or an impossible date, were
refused before matching. Issue 13 (item 13): a refused row listed only some of its
problems, and some codes had no message of their own.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from loaders.base import CanonicalRow, Reject
from loaders.fields import PersonFields, PersonRowBuilder
from loaders.reasons import ROW_REASONS, message
from loaders.sis import SisLoader
from tests.loaders.conftest import TODAY, read_all

ROOT = Path(__file__).resolve().parents[2]
SIS_HEADER = (
    "TIPO_DOC,NUM_DOC,APE_PAT,APE_MAT,NOMBRES,FEC_NAC,SEXO,UBIGEO_ADSCRIPCION,REGIMEN,"
    "FEC_AFILIACION"
)
GENERIC = message("no_such_code_at_all")


def sis(*lines: str) -> list[object]:
    data = "\n".join((SIS_HEADER, *lines)).encode()
    return read_all(SisLoader(period="2026-10", today=TODAY), data)


def builder() -> PersonRowBuilder:
    return PersonRowBuilder(period="2026-10", today=TODAY, date_formats=("dmy", "iso"))


class TestUsableRowsReachMatching:
    def test_blank_given_name_with_surname_and_birth_date(self) -> None:
        (row,) = sis("0,,QUISPE,MAMANI,,1980-01-02,F,150101,SUBSIDIADO,2020-05-06")
        assert isinstance(row, CanonicalRow)
        assert (row.nombres, row.apellido_paterno, row.birth_date) == (
            None,
            "QUISPE",
            date(1980, 1, 2),
        )

    def test_blank_surnames_with_given_name_and_birth_date(self) -> None:
        (row,) = sis("0,,,,ROSA ELENA,1980-01-02,F,150101,SUBSIDIADO,2020-05-06")
        assert isinstance(row, CanonicalRow)
        assert (row.nombres, row.apellido_paterno, row.apellido_materno) == (
            "ROSA ELENA",
            None,
            None,
        )

    def test_impossible_date_is_a_note_not_a_reject(self) -> None:
        (row,) = sis("1,12345678,PEÑA,NÚÑEZ,JOSÉ,1980-02-31,M,150101,SUBSIDIADO,2020-05-06")
        assert isinstance(row, CanonicalRow)
        assert (row.birth_date, row.doc_notes) == (None, ("impossible_date",))

    def test_document_alone_identifies(self) -> None:
        row = builder().build("1", {}, PersonFields(doc="12345678", nombres="", paterno=""))
        assert isinstance(row, CanonicalRow)
        assert (row.doc_number, row.nombres, row.apellido_paterno) == ("12345678", None, None)

    def test_bad_document_kept_as_note_when_names_identify(self) -> None:
        row = builder().build(
            "1", {}, PersonFields(doc="ABC", nombres="ANA", paterno="ROJAS", birth="31/02/1990")
        )
        assert isinstance(row, CanonicalRow)
        assert (row.doc_number, row.doc_notes) == (None, ("dni_not_numeric", "impossible_date"))


class TestUnidentifiableRowsListEveryFailingField:
    def test_bad_dni_and_impossible_date_are_both_reasons(self) -> None:
        (row,) = sis("1,ABC,,,,1980-02-31,M,150101,SUBSIDIADO,2020-05-06")
        assert isinstance(row, Reject)
        assert row.reasons == ("not_identifiable", "dni_not_numeric", "missing_name",
                               "impossible_date")  # fmt: skip

    def test_surname_only_without_date_or_document(self) -> None:
        (row,) = sis("0,,QUISPE,,,,F,150101,SUBSIDIADO,2020-05-06")
        assert isinstance(row, Reject)
        assert row.reasons == (
            "not_identifiable",
            "missing_document",
            "missing_given_name",
            "missing_birth_date",
        )

    def test_roll_entry_reject_also_lists_person_field_problems(self) -> None:
        row = builder().build(
            "1",
            {},
            PersonFields(doc="ABC", nombres="ANA", paterno="ROJAS", birth="31/02/1990"),
            reasons=["invalid_amount"],
        )
        assert isinstance(row, Reject)
        assert row.reasons == ("invalid_amount", "dni_not_numeric", "impossible_date")

    def test_period_mismatch_still_refuses_the_row(self) -> None:
        row = builder().build(
            "1", {}, PersonFields(doc="12345678", nombres="ANA", paterno="R", row_period="202609")
        )
        assert isinstance(row, Reject)
        assert row.reasons == ("period_mismatch",)


def _codes_in(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r'Reject\([^)]*\(\s*"([a-z_]+)"', text))
    found |= set(re.findall(r"ARRAY\['([a-z_]+)'\]", text))
    found |= set(re.findall(r'(?:append|problems\.append)\("([a-z_]+)"\)', text))
    found |= set(re.findall(r'return "([a-z_]+)"', text))
    return found


@pytest.mark.parametrize(
    "code",
    sorted(
        {
            "duplicate_row",
            "not_identifiable",
            "missing_given_name",
            "missing_surname",
            "invalid_document",
            "invalid_date",
        }
        | {
            code
            for folder in ("loaders", "rnu/ingest", "rnu/agency")
            for path in (ROOT / folder).glob("*.py")
            for code in _codes_in(path)
            if code.startswith(("missing_", "invalid_", "duplicate_", "wrong_", "impossible"))
        }
    ),
)
def test_every_reason_code_has_its_own_message(code: str) -> None:
    """88 of 100 quarantined SIS rows (exact copies) showed the generic placeholder."""
    assert code in ROW_REASONS
    assert message(code) != GENERIC
