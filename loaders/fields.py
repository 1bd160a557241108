"""Field checks shared by the loaders, and the one place a person row is assembled.

Every check returns a value or a reason code (never raises), and the expensive ones are
cached: in a file of millions of rows the same birth dates, ubigeos, places and surnames
repeat, so caching them is what keeps SIS parsing above 150k rows/s.

What is a reject and what is not (the policy, in one place):
* a wrong, missing or repaired document is NOT a reject: it goes to `doc_notes` and
  matching decides; only the RENIEC deaths file, where the DNI is the only identifier,
  rejects on it;
* a row needs a name (`missing_name`, or `name_unparseable` for a one-field name that
  cannot be split) and, when its file has a birth-date column, a birth date unless it has
  a usable document (`missing_birth_date`: a name alone is not enough to identify anyone);
* malformed values of any field the file promises (date, sex, ubigeo, period, amount) are
  rejects, as they usually mean a shifted or broken row; blank optional fields are None;
* names that look like spreadsheet formulas (`=HYPERLINK(...)`) are kept as data: they are
  someone's typing, and the quarantine export defuses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache

from loaders.base import CanonicalRow, Reject
from rnu.normalize.dates import DateError, parse_date, parse_period
from rnu.normalize.documents import Document, is_valid_dni, parse_document
from rnu.normalize.names import (
    LAYOUT_SURNAMES_ONLY,
    display,
    fold,
    split_full_name,
)
from rnu.ubigeo.reference import resolve

SEX: Mapping[str, str] = {
    "M": "M", "F": "F", "MASCULINO": "M", "FEMENINO": "F", "H": "M", "HOMBRE": "M", "MUJER": "F",
}  # fmt: skip
SEX_NUMERIC: Mapping[str, str] = {"1": "M", "2": "F", **SEX}

# Declared type values for which an 8-digit value needs no further parsing.
_FAST_DNI: Mapping[str | None, str] = {
    None: "DNI", "": "DNI", "1": "DNI", "01": "DNI", "DNI": "DNI",
    "3": "CUI", "03": "CUI", "CUI": "CUI",
}  # fmt: skip
_NO_NOTES: tuple[str, ...] = ()
_EARLIEST = date(1900, 1, 1)

DateValue = str | int | float | date | datetime | None


def document(value: str | int | float | None, declared: str | None = None) -> Document:
    """`parse_document`, with a fast path for the common clean 8-digit DNI."""
    if type(value) is str and len(value) == 8 and is_valid_dni(value):
        doc_type = _FAST_DNI.get(declared)
        if doc_type is not None:
            return Document(doc_type, value, _NO_NOTES, None)
    return parse_document(value, declared)


def doc_notes(doc: Document) -> tuple[str, ...]:
    """Notes and error of a document together, as `CanonicalRow.doc_notes` keeps them."""
    if doc.error is None:
        return doc.notes
    return (*doc.notes, doc.error)


@lru_cache(maxsize=1 << 17)
def _cached_date(value: str | int | float, formats: tuple[str, ...]) -> date | str:
    try:
        # The future check is done by the caller against the loader's own "today", so the
        # cache does not depend on the day it was filled.
        return parse_date(value, formats, today=date.max)
    except DateError as exc:
        return exc.code


def parse_any_date(value: DateValue, formats: tuple[str, ...], today: date) -> date | str | None:
    """A date, a reason code, or None when blank (or a zero date like 0000-00-00)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        found: date | str = value.date()
    elif isinstance(value, date):
        found = value
    else:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
        found = _cached_date(value, formats)
    if isinstance(found, str):
        return None if found == "missing_date" else found
    if found > today:
        return "future_date"
    if found.year < _EARLIEST.year:
        return "too_old"
    return found


@lru_cache(maxsize=1 << 14)
def parse_ubigeo(value: str) -> str | None:
    """A 6-digit INEI code (a lost leading zero restored), "" when blank, None when invalid."""
    value = value.strip()
    if value.endswith(".0"):  # a number that went through Excel
        value = value[:-2]
    if not value:
        return ""
    if value.isascii() and value.isdigit():
        if len(value) == 5:
            value = "0" + value
        if len(value) == 6 and value[:2] != "00":
            return value
    return None


@lru_cache(maxsize=1 << 14)
def resolve_place(departamento: str, provincia: str, distrito: str) -> str | None:
    """The ubigeo of a place given by names; "" when all three are blank, None if unknown."""
    if not (departamento.strip() or provincia.strip() or distrito.strip()):
        return ""
    return resolve(departamento, provincia, distrito)


@lru_cache(maxsize=1 << 12)
def parse_row_period(value: str) -> str | None:
    """ "YYYY-MM" from a row's period field, or None when it is not a period."""
    try:
        return parse_period(value.strip())
    except (DateError, ValueError):
        return None


cached_display = lru_cache(maxsize=1 << 17)(display)


def _align(text: str, parts: Sequence[str | None]) -> list[str | None] | None:
    """Display forms of folded `parts`, found by walking the original words in order.

    The splitters return folded text (no accents); the registry shows names as the sector
    wrote them, so each part is mapped back to the words it came from. None when the words
    do not line up (the folded parts are then used as they are).
    """
    words = display(text).replace(",", " , ").split()
    flat: list[tuple[str, int]] = []
    for i, word in enumerate(words):
        flat.extend((token, i) for token in fold(word).split())
    out: list[str | None] = []
    used: set[int] = set()
    pos = 0
    for part in parts:
        if part is None:
            out.append(None)
            continue
        want = part.split()
        while pos < len(flat) and flat[pos][0] != want[0] if want else False:
            pos += 1  # words the splitter dropped (no letters: "???", digits)
        chunk = flat[pos : pos + len(want)]
        if [t for t, _ in chunk] != want:
            return None
        pos += len(want)
        indexes = sorted({i for _, i in chunk})
        if used.intersection(indexes):
            return None  # one written word feeds two parts: no honest display form
        used.update(indexes)
        out.append(" ".join(words[i] for i in indexes))
    return out


@lru_cache(maxsize=1 << 16)
def split_name(text: str, layout: str) -> tuple[str, str, str | None] | str:
    """(nombres, paterno, materno) in display form from a one-field name, or a reason code."""
    if not text.strip():
        return "missing_name"
    try:
        parts = split_full_name(text, layout)
    except ValueError:
        return "name_unparseable"
    if not parts.apellido_paterno or (layout != LAYOUT_SURNAMES_ONLY and not parts.nombres):
        return "name_unparseable"
    ordered: list[str | None]
    if layout.startswith("NOMBRES"):
        ordered = [parts.nombres, parts.apellido_paterno, parts.apellido_materno]
        shown = _align(text, ordered)
        if shown is None:
            return parts.nombres, parts.apellido_paterno, parts.apellido_materno
        return shown[0] or "", shown[1] or "", shown[2]
    ordered = [parts.apellido_paterno, parts.apellido_materno, parts.nombres or None]
    shown = _align(text, ordered)
    if shown is None:
        return parts.nombres, parts.apellido_paterno, parts.apellido_materno
    return shown[2] or "", shown[0] or "", shown[1]


def split_apellidos(text: str) -> tuple[str, str | None] | str:
    """(paterno, materno) in display form from a field holding both surnames, or a code."""
    found = split_name(text, LAYOUT_SURNAMES_ONLY)
    if isinstance(found, str):
        return found
    return found[1], found[2]


class PersonRowBuilder:
    """Assembles a `CanonicalRow` (or a `Reject`) from one row's already-located fields.

    One builder per file read: it holds what the loader was told about the file (its
    period, the reference date for "future" checks) and the file's date formats.
    """

    __slots__ = ("date_formats", "period", "sex_codes", "today")

    def __init__(
        self,
        *,
        period: str | None,
        today: date,
        date_formats: tuple[str, ...],
        sex_codes: Mapping[str, str] = SEX,
    ) -> None:
        self.period = period
        self.today = today
        self.date_formats = date_formats
        self.sex_codes = sex_codes

    def build(
        self,
        row_number: str,
        raw: dict[str, str],
        *,
        doc: str | int | float | None,
        declared: str | None = None,
        nombres: str | None = None,
        paterno: str | None = None,
        materno: str | None = None,
        apellidos: str | None = None,
        full_name: str | None = None,
        layout: str | None = None,
        birth: DateValue = None,
        has_birth_column: bool = True,
        sex: str | None = None,
        ubigeo: str | None = None,
        place: tuple[str, str, str] | None = None,
        row_period: str | None = None,
        household_code: str | None = None,
        extra: dict[str, str] | None = None,
        reasons: list[str] | None = None,
    ) -> CanonicalRow | Reject:
        """Validate and assemble one row; all failing checks are reported together."""
        problems = reasons if reasons is not None else []
        # Names: one field in a layout, a both-surnames field, or three fields.
        shown_name: str
        if full_name is not None:
            shown_name = full_name.strip()
            split = split_name(full_name, layout or "PATERNO MATERNO, NOMBRES")
            if isinstance(split, str):
                problems.append(split)
                first = last = None
                second: str | None = None
            else:
                first, last, second = split
        else:
            first = cached_display(nombres) if nombres else ""
            if apellidos is not None:
                shown_name = f"{apellidos.strip()}, {(nombres or '').strip()}"
                found = split_apellidos(apellidos)
                if isinstance(found, str):
                    last, second = None, None
                    if found != "missing_name":
                        problems.append(found)
                else:
                    last, second = found
            else:
                pat, mat = (paterno or "").strip(), (materno or "").strip()
                shown_name = (
                    f"{pat} {mat}, {(nombres or '').strip()}"
                    if mat
                    else (f"{pat}, {(nombres or '').strip()}")
                )
                last = cached_display(pat) if pat else None
                second = cached_display(mat) if mat else None
            if (not first or not last) and "name_unparseable" not in problems:
                problems.append("missing_name")
        # Document: never a reject here (matching decides), always explained.
        if doc is not None and type(doc) is str:
            doc = doc.strip()
        parsed = document(doc, declared.strip() if declared is not None else None)
        usable_doc = parsed.error is None and parsed.number is not None
        # Birth date.
        born: date | None = None
        found_date = parse_any_date(birth, self.date_formats, self.today)
        if isinstance(found_date, str):
            problems.append(found_date)
        elif found_date is None:
            if has_birth_column and not usable_doc:
                problems.append("missing_birth_date")
        else:
            born = found_date
        # Sex.
        sex_code: str | None = None
        if sex is not None:
            key = sex.strip().upper()
            if key:
                sex_code = self.sex_codes.get(key)
                if sex_code is None:
                    problems.append("invalid_sex")
        # Place.
        code: str | None = None
        if place is not None:
            resolved = resolve_place(*place)
            if resolved is None:
                problems.append("place_not_found")
            else:
                code = resolved or None
        elif ubigeo is not None:
            checked = parse_ubigeo(ubigeo)
            if checked is None:
                problems.append("invalid_ubigeo")
            else:
                code = checked or None
        # Period.
        period = self.period
        if row_period is not None:
            found_period = parse_row_period(row_period)
            if found_period is None:
                problems.append("invalid_period")
            elif self.period is not None and found_period != self.period:
                problems.append("period_mismatch")
            else:
                period = found_period
        if problems:
            return Reject(row_number, tuple(problems), raw)
        return CanonicalRow(
            row_number=row_number,
            period=period,
            doc_type=parsed.doc_type,
            doc_number=parsed.number,
            doc_notes=doc_notes(parsed),
            nombres=first,
            apellido_paterno=last,
            apellido_materno=second,
            full_name=shown_name,
            birth_date=born,
            sex=sex_code,
            ubigeo=code,
            household_code=household_code,
            extra=extra if extra is not None else {},
            raw=raw,
        )
