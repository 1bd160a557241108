"""Documents: DNI/CUI check characters, Excel damage, CE, declared types, error codes."""

import dataclasses

import pytest

from rnu.normalize import ERROR_CODES, Document, dni_check_chars, is_valid_dni, parse_document
from rnu.normalize.documents import NOTE_CODES


class TestCheckChars:
    # Worked by hand with weights 3,2,7,6,5,4,3,2: sum mod 11 indexes "65432110987" and
    # "KJIHGFEDCBA" (10117410 is python-stdnum's own doctest example).
    @pytest.mark.parametrize(
        ("number", "expected"),
        [("10117410", ("2", "G")), ("01234567", ("0", "D")), ("12345678", ("1", "E"))],
    )
    def test_known(self, number: str, expected: tuple[str, str]) -> None:
        assert dni_check_chars(number) == expected

    @pytest.mark.parametrize("number", ["1234567", "123456789", "1234567A", "", "１２３４５６７８"])
    def test_needs_8_digits(self, number: str) -> None:
        with pytest.raises(ValueError, match="8 digits"):
            dni_check_chars(number)


class TestIsValidDni:
    @pytest.mark.parametrize(
        ("number", "expected"),
        [
            ("12345678", True),
            ("01234567", True),
            ("1234567", False),
            ("123456789", False),
            ("1234567A", False),
            ("00000000", False),
            ("99999999", False),
            ("１２３４５６７８", False),
            ("", False),
        ],
    )
    def test_valid(self, number: str, expected: bool) -> None:
        assert is_valid_dni(number) is expected


def doc(doc_type: str | None, number: str | None, *notes: str, error: str | None = None):
    return Document(doc_type, number, tuple(notes), error)


class TestParseDocument:
    @pytest.mark.parametrize(
        ("value", "declared", "expected"),
        [
            # clean and separators
            ("12345678", None, doc("DNI", "12345678")),
            (" 12.345.678 ", None, doc("DNI", "12345678")),
            ("12-345/678", "DNI", doc("DNI", "12345678")),
            # Excel numbers
            (12345678, None, doc("DNI", "12345678")),
            (12345678.0, None, doc("DNI", "12345678")),
            ("12345678.0", None, doc("DNI", "12345678")),
            (1234567, None, doc("DNI", "01234567", "leading_zeros_restored")),
            (1234567.0, "1", doc("DNI", "01234567", "leading_zeros_restored")),
            ("1234567", None, doc("DNI", "01234567", "leading_zeros_restored")),
            (123456, None, doc("DNI", "00123456", "leading_zeros_restored", error="dni_too_short")),
            (
                "12345",
                None,
                doc("DNI", "00012345", "leading_zeros_restored", error="dni_too_short"),
            ),
            ("1234", None, doc("DNI", None, error="dni_too_short")),
            (0, None, doc("DNI", None, error="dni_too_short")),
            ("000000", None, doc("DNI", None, error="dni_too_short")),
            (1234567.5, None, doc("DNI", None, error="dni_not_numeric")),
            (-12345678, None, doc("DNI", None, error="dni_not_numeric")),
            # check characters
            ("101174102", None, doc("DNI", "10117410", "check_char_verified")),
            ("10117410-2", None, doc("DNI", "10117410", "check_char_verified")),
            ("10117410-g", None, doc("DNI", "10117410", "check_char_verified")),
            ("10117410 G", "DNI", doc("DNI", "10117410", "check_char_verified")),
            ("10117410-3", None, doc("DNI", "10117410", error="wrong_check_char")),
            ("10117410K", None, doc("DNI", "10117410", error="wrong_check_char")),
            ("10117410Z", None, doc("DNI", None, error="dni_not_numeric")),
            ("0123456-7D", None, doc("DNI", "01234567", "check_char_verified")),
            ("1234567890", None, doc("DNI", None, error="dni_too_long")),
            # not digits, fillers
            ("1234567X", None, doc("DNI", None, error="dni_not_numeric")),
            ("ABCDEFGH", "DNI", doc("DNI", None, error="dni_not_numeric")),
            ("00000000", None, doc("DNI", None, error="dni_placeholder")),
            ("999999999", None, doc("DNI", None, error="dni_placeholder")),
            # CUI: validated like a DNI
            ("12345678", "CUI", doc("CUI", "12345678")),
            ("12345678", "3", doc("CUI", "12345678")),
            ("123456781", "3", doc("CUI", "12345678", "check_char_verified")),
            ("123456782", "CUI", doc("CUI", "12345678", error="wrong_check_char")),
            # CE: 9 characters, zeros restored, alphanumeric, never check-verified
            ("001234567", "CE", doc("CE", "001234567")),
            ("101174103", "2", doc("CE", "101174103")),
            (1234567, "CE", doc("CE", "001234567", "leading_zeros_restored")),
            ("n-0012345", "C.E.", doc("CE", "N0012345")),
            ("12", "CE", doc("CE", None, error="ce_invalid_length")),
            ("1234567890123", "CE", doc("CE", None, error="ce_invalid_length")),
            ("12#45678", "CE", doc("CE", None, error="ce_not_alphanumeric")),
            # missing
            (None, None, doc(None, None, error="missing_document")),
            ("", None, doc(None, None, error="missing_document")),
            ("  ", "DNI", doc(None, None, error="missing_document")),
            ("-", None, doc(None, None, error="missing_document")),
            (float("nan"), None, doc(None, None, error="missing_document")),
            ("", "sin documento", doc(None, None, error="missing_document")),
            (None, "0", doc(None, None, error="missing_document")),
            # declared type oddities
            ("12345678", "0", doc("DNI", "12345678", "declared_no_document")),
            ("12345678", "Sin Documento", doc("DNI", "12345678", "declared_no_document")),
            ("12345678", "PASAPORTE", doc("DNI", "12345678", "unknown_declared_type")),
            ("12345678", "", doc("DNI", "12345678")),
            ("12345678", "L.E.", doc("DNI", "12345678")),
        ],
    )
    def test_parse(
        self, value: str | int | float | None, declared: str | None, expected: Document
    ) -> None:
        assert parse_document(value, declared) == expected

    def test_codes_are_listed(self) -> None:
        assert {
            "missing_document",
            "dni_too_short",
            "dni_not_numeric",
            "wrong_check_char",
        } <= ERROR_CODES
        assert all(code == code.lower() and " " not in code for code in ERROR_CODES | NOTE_CODES)

    @pytest.mark.parametrize(
        ("value", "declared"),
        [
            ("1234", None),
            ("12345678-0", None),
            ("X", "CE"),
            ("12$", "CE"),
            ("", None),
            ("1.5", None),
            ("1234567", "2"),
            ("12345678", "sd"),
            ("12345678", "??"),
        ],
    )
    def test_every_code_is_declared(self, value: str, declared: str | None) -> None:
        result = parse_document(value, declared)
        assert result.error is None or result.error in ERROR_CODES
        assert set(result.notes) <= NOTE_CODES

    def test_document_is_frozen(self) -> None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            parse_document("12345678").number = "1"  # type: ignore[misc]
