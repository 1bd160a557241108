"""Normalisation shared by every loader and by matching: names, documents, dates.

Pure functions without I/O, fast enough to run per row on million-row files.
"""

from rnu.normalize.dates import DateError, age_in_months, age_on, parse_date, parse_period
from rnu.normalize.documents import (
    ERROR_CODES,
    Document,
    dni_check_chars,
    is_valid_dni,
    parse_document,
)
from rnu.normalize.names import (
    PARTICLES,
    NameParts,
    display,
    fold,
    given_name_key,
    split_full_name,
    split_surnames,
    surname_key,
)

__all__ = [
    "ERROR_CODES",
    "PARTICLES",
    "DateError",
    "Document",
    "NameParts",
    "age_in_months",
    "age_on",
    "display",
    "dni_check_chars",
    "fold",
    "given_name_key",
    "is_valid_dni",
    "parse_date",
    "parse_document",
    "parse_period",
    "split_full_name",
    "split_surnames",
    "surname_key",
]
