"""Identity documents: DNI, CUI and carné de extranjería numbers as sectors send them.

Sectors lose leading zeros (Excel), append the check character, add dots and dashes, or
put a CE in a DNI column. `parse_document` turns any of these into one `Document` whose
`notes` say what was repaired and whose `error` says, as a machine-readable code, why the
value cannot be used as a document.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from stdnum.pe import cui as stdnum_cui

__all__ = [
    "DOC_TYPES",
    "ERROR_CODES",
    "NOTE_CODES",
    "Document",
    "dni_check_chars",
    "is_valid_dni",
    "parse_document",
]

DOC_TYPES: Final = frozenset({"DNI", "CE", "CUI"})

ERROR_CODES: Final = frozenset(
    {
        "missing_document",  # no value at all (None, "", NaN, only separators)
        "dni_too_short",  # 6 digits or fewer (5-6 keep a zero-padded candidate number)
        "dni_too_long",  # 10 or more characters, or 9 where the 9th is not a check char
        "dni_not_numeric",  # letters or symbols where digits must be
        "dni_placeholder",  # one digit repeated (00000000, 99999999): a filler, not a person
        "wrong_check_char",  # 9th character is not this number's check character
        "ce_invalid_length",  # a CE outside 4..12 characters
        "ce_not_alphanumeric",  # a CE with symbols left after cleaning
    }
)
NOTE_CODES: Final = frozenset(
    {
        "leading_zeros_restored",  # a 7-digit DNI (or a short numeric CE) padded with zeros
        "check_char_verified",  # a valid 9th check character was present and dropped
        "declared_no_document",  # the sector said "sin documento" but sent a value
        "unknown_declared_type",  # the sector's type code is not one we know; inferred
    }
)


@dataclass(frozen=True, slots=True)
class Document:
    """A cleaned document: type, number, repairs made (`notes`) and an `error` code or None."""

    doc_type: str | None
    number: str | None
    notes: tuple[str, ...]
    error: str | None


_MISSING: Final = Document(None, None, (), "missing_document")

# Sector type codes (PGH TI_DOC 1/2/3/0 and the spellings other files use), folded to upper
# case without spaces or dots. "NONE" means the sector says the person has no document.
_DECLARED: Final[dict[str, str]] = {
    "1": "DNI", "01": "DNI", "DNI": "DNI", "LE": "DNI", "LIBRETAELECTORAL": "DNI",
    "2": "CE", "02": "CE", "CE": "CE", "CARNEDEEXTRANJERIA": "CE", "CARNETDEEXTRANJERIA": "CE",
    "CARNÉDEEXTRANJERÍA": "CE", "CARNEEXTRANJERIA": "CE",
    "3": "CUI", "03": "CUI", "CUI": "CUI",
    "0": "NONE", "00": "NONE", "SD": "NONE", "SINDOCUMENTO": "NONE", "NINGUNO": "NONE",
    "SINDNI": "NONE",
}  # fmt: skip

_SEPARATORS: Final = str.maketrans("", "", " \t\r\n\u00a0.-/")
_EXCEL_TEXT: Final = re.compile(r"^\s*(\d+)\.0+\s*$")  # "1234567.0" from an Excel-to-CSV export
_CHECK_LETTERS: Final = frozenset("ABCDEFGHIJK")
_ALNUM: Final = re.compile(r"^[0-9A-Z]+$")


@lru_cache(maxsize=1 << 14)
def dni_check_chars(number8: str) -> tuple[str, str]:
    """The (digit, letter) check characters printed after an 8-digit DNI/CUI; either is valid."""
    if len(number8) != 8 or not (number8.isascii() and number8.isdigit()):
        raise ValueError(f"a DNI/CUI has 8 digits, got {len(number8)} characters")
    chars = stdnum_cui.calc_check_digits(number8)
    return chars[0], chars[1]


def _is_placeholder(digits: str) -> bool:
    return digits == digits[0] * len(digits)


def is_valid_dni(number: str) -> bool:
    """True for exactly 8 ASCII digits that are not a filler like 00000000 or 99999999."""
    return (
        len(number) == 8 and number.isascii() and number.isdigit() and not _is_placeholder(number)
    )


def _declared_type(declared: str | None) -> tuple[str | None, tuple[str, ...]]:
    if declared is None:
        return None, ()
    key = declared.translate(_SEPARATORS).replace("_", "").upper()
    if not key:  # a blank type column says nothing
        return None, ()
    if key in _DECLARED:
        return _DECLARED[key], ()
    return None, ("unknown_declared_type",)


def _as_text(value: str | int | float) -> str | None:
    """Cleaned text of the value ("" when empty); None for a number that is no document."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value < 0 or math.isinf(value) or not value.is_integer():
            return None
        return str(int(value))
    match = _EXCEL_TEXT.match(value)
    if match:
        return match.group(1)
    return value.translate(_SEPARATORS).upper()


def _parse_dni(text: str, doc_type: str, notes: tuple[str, ...]) -> Document:
    """Validate a DNI or CUI (the same number, with the same check character)."""
    if text.isascii() and text.isdigit():
        digits = text
        if len(digits) <= 6:
            # More than one lost zero is too uncertain to repair silently, but an Excel column
            # drops every leading zero ("00123456" -> 123456), so 5-6 digits still give matching
            # a padded candidate to try, as with a wrong check character.
            if len(digits) >= 5 and not _is_placeholder(digits):
                padded = (*notes, "leading_zeros_restored")
                return Document(doc_type, digits.zfill(8), padded, "dni_too_short")
            return Document(doc_type, None, notes, "dni_too_short")
        if len(digits) == 7:
            digits = "0" + digits
            notes = (*notes, "leading_zeros_restored")
        elif len(digits) >= 10:
            return Document(doc_type, None, notes, "dni_too_long")
    elif len(text) == 9 and text[:8].isascii() and text[:8].isdigit():
        if text[8] not in _CHECK_LETTERS:
            return Document(doc_type, None, notes, "dni_not_numeric")
        digits = text
    else:
        return Document(doc_type, None, notes, "dni_not_numeric")
    if len(digits) == 9:
        number, check = digits[:8], digits[8]
        if _is_placeholder(number):
            return Document(doc_type, None, notes, "dni_placeholder")
        if check in dni_check_chars(number):
            return Document(doc_type, number, (*notes, "check_char_verified"), None)
        # Keep the 8 digits: the check char may be the typo; matching decides.
        return Document(doc_type, number, notes, "wrong_check_char")
    if _is_placeholder(digits):
        return Document(doc_type, None, notes, "dni_placeholder")
    return Document(doc_type, digits, notes, None)


def _parse_ce(text: str, notes: tuple[str, ...]) -> Document:
    """Validate a carné de extranjería: 9 characters, alphanumeric, never check-verified."""
    if not _ALNUM.match(text):
        return Document("CE", None, notes, "ce_not_alphanumeric")
    if not 4 <= len(text) <= 12:
        return Document("CE", None, notes, "ce_invalid_length")
    if text.isdigit() and len(text) < 9:
        return Document("CE", text.zfill(9), (*notes, "leading_zeros_restored"), None)
    return Document("CE", text, notes, None)


def parse_document(value: str | int | float | None, declared: str | None = None) -> Document:
    """Clean and validate one document value, using the sector's declared type when given.

    `declared` accepts "DNI"/"CE"/"CUI", the PGH codes "1"/"2"/"3"/"0" and "sin documento";
    without it (or with an unknown code) the value is read as a DNI, because every sector
    column without a type is a DNI or CUI column. A CUI is validated like a DNI.
    """
    if value is None:
        return _MISSING
    declared_type, notes = _declared_type(declared)
    text = _as_text(value)
    if text is None:
        if declared_type == "CE":
            return Document("CE", None, notes, "ce_not_alphanumeric")
        return Document(
            declared_type if declared_type in DOC_TYPES else "DNI", None, notes, "dni_not_numeric"
        )
    if not text:
        return _MISSING
    if declared_type == "NONE":
        notes = (*notes, "declared_no_document")
        declared_type = None
    if declared_type == "CE":
        return _parse_ce(text, notes)
    return _parse_dni(text, declared_type or "DNI", notes)
