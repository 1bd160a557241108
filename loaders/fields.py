"""Field checks shared by the loaders, and the one place a person row is assembled.

Every check returns a value or a reason code (never raises), and the expensive ones are
cached: in a file of millions of rows the same birth dates, ubigeos, places and surnames
repeat, so caching them is what keeps SIS parsing above 150k rows/s.

What is a reject and what is not (the policy, in one place):
* matching uses what a row has: a field that is blank or unusable (a wrong, missing or
  repaired document, a blank given name or surname, an impossible date such as 31/02, an
  unknown sex code or ubigeo) is None for the engine, which treats it as neutral, and its
  problem is kept as a note in `CanonicalRow.doc_notes` (stored with the roll row), not a
  reject. Rejecting such rows lost 8-14 % of true pairs before they reached the matcher;
* only a row with nothing usable to identify a person is quarantined (`not_identifiable`):
  it has no usable document, and neither a given name with a surname nor some name with a
  birth date. Its reasons then list *every* failing field (the document's own problem,
  `missing_given_name` / `missing_surname` / `missing_name`, `missing_birth_date` or the
  date's problem), so the sector knows what to fix;
* values about the roll entry rather than the person (period, amount, enrollment dates
  the loader checks) are rejects, as a row of another period or a broken amount cannot be
  loaded into this roll; the row's person-field problems are reported with them;
* only the RENIEC deaths file, where the DNI is the only identifier, rejects on the DNI;
* names that look like spreadsheet formulas (`=HYPERLINK(...)`) are kept as data: they are
  someone's typing, and the quarantine export defuses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class PersonFields:
    """The person fields a loader located in one row, as read (None: no such column).

    Names come in one of three shapes: `full_name` in a `layout`, `apellidos` (both
    surnames in one field) with `nombres`, or `nombres`, `paterno` and `materno`. The place
    is a `ubigeo` code or a (departamento, provincia, distrito) `place` given by names.
    """

    doc: str | int | float | None = None
    declared: str | None = None
    nombres: str | None = None
    paterno: str | None = None
    materno: str | None = None
    apellidos: str | None = None
    full_name: str | None = None
    layout: str | None = None
    birth: DateValue = None
    has_birth_column: bool = True
    sex: str | None = None
    ubigeo: str | None = None
    place: tuple[str, str, str] | None = None
    row_period: str | None = None
    household_code: str | None = None


@dataclass(slots=True)
class _Names:
    """A row's names in display form, the name as written, and the splitter's problem."""

    nombres: str | None
    paterno: str | None
    materno: str | None
    shown: str
    problem: str | None = None


def _names(f: PersonFields) -> _Names:
    """Names from whichever shape the file uses; blank parts are None."""
    if f.full_name is not None:
        split = split_name(f.full_name, f.layout or "PATERNO MATERNO, NOMBRES")
        shown = f.full_name.strip()
        if isinstance(split, str):
            return _Names(None, None, None, shown, None if split == "missing_name" else split)
        return _Names(split[0] or None, split[1] or None, split[2] or None, shown)
    nombres = (f.nombres or "").strip()
    first = cached_display(nombres) if nombres else None
    if f.apellidos is not None:
        found = split_apellidos(f.apellidos)
        shown = f"{f.apellidos.strip()}, {nombres}"
        if isinstance(found, str):
            return _Names(first, None, None, shown, None if found == "missing_name" else found)
        return _Names(first, found[0] or None, found[1] or None, shown)
    pat, mat = (f.paterno or "").strip(), (f.materno or "").strip()
    shown = f"{pat} {mat}, {nombres}" if mat else f"{pat}, {nombres}"
    return _Names(
        first, cached_display(pat) if pat else None, cached_display(mat) if mat else None, shown
    )


def _name_reasons(names: _Names) -> list[str]:
    """Why the names cannot help identify the person (only reported on a rejected row)."""
    if names.problem is not None:
        return [names.problem]
    has_surname = names.paterno is not None or names.materno is not None
    if names.nombres is None and not has_surname:
        return ["missing_name"]
    if names.nombres is None:
        return ["missing_given_name"]
    if not has_surname:
        return ["missing_surname"]
    return []


def identifiable(names: _Names, usable_doc: bool, born: date | None) -> bool:
    """A usable document, a given name with a surname, or some name with a birth date."""
    if usable_doc:
        return True
    has_given = names.nombres is not None
    has_surname = names.paterno is not None or names.materno is not None
    return (has_given and has_surname) or ((has_given or has_surname) and born is not None)


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
        fields: PersonFields,
        *,
        extra: dict[str, str] | None = None,
        reasons: Sequence[str] = (),
    ) -> CanonicalRow | Reject:
        """Assemble one row; `reasons` are the loader's own rejects (roll-entry fields).

        Person-field problems become notes on a loaded row, or reasons of a rejected one.
        """
        names = _names(fields)
        doc = fields.doc.strip() if type(fields.doc) is str else fields.doc
        declared = fields.declared.strip() if fields.declared is not None else None
        parsed = document(doc, declared)
        usable_doc = parsed.error is None and parsed.number is not None
        born, date_problem = self._birth(fields)
        sex_code, sex_problem = self._sex(fields.sex)
        code, place_problem = _place(fields)
        period, period_problem = self._period(fields.row_period)
        # Each failing field once, in field order.
        failing = [parsed.error, names.problem, date_problem, sex_problem, place_problem]
        if not identifiable(names, usable_doc, born):
            failing[1:2] = _name_reasons(names)
            if born is None and date_problem is None and fields.has_birth_column:
                failing.insert(len(failing) - 2, "missing_birth_date")
            problems = ["not_identifiable", *reasons, *failing, period_problem]
        elif reasons or period_problem:
            problems = [*reasons, *failing, period_problem]
        else:
            problems = []
        if problems:
            kept = (p for p in problems if p is not None)
            return Reject(row_number, tuple(dict.fromkeys(kept)), raw)
        notes = (*parsed.notes, *(p for p in failing if p is not None))
        return CanonicalRow(
            row_number=row_number,
            period=period,
            doc_type=parsed.doc_type,
            doc_number=parsed.number,
            doc_notes=notes,
            nombres=names.nombres,
            apellido_paterno=names.paterno,
            apellido_materno=names.materno,
            full_name=names.shown,
            birth_date=born,
            sex=sex_code,
            ubigeo=code,
            household_code=fields.household_code,
            extra=extra if extra is not None else {},
            raw=raw,
        )

    def _birth(self, fields: PersonFields) -> tuple[date | None, str | None]:
        """(birth date, None) or (None, the date's problem); (None, None) when blank."""
        found = parse_any_date(fields.birth, self.date_formats, self.today)
        if isinstance(found, str):
            return None, found
        return found, None

    def _sex(self, value: str | None) -> tuple[str | None, str | None]:
        key = value.strip().upper() if value is not None else ""
        if not key:
            return None, None
        code = self.sex_codes.get(key)
        return code, None if code is not None else "invalid_sex"

    def _period(self, value: str | None) -> tuple[str | None, str | None]:
        """The row's period (the file's when the row has none) or its problem."""
        if value is None:
            return self.period, None
        found = parse_row_period(value)
        if found is None:
            return self.period, "invalid_period"
        if self.period is not None and found != self.period:
            return self.period, "period_mismatch"
        return found, None


def _place(fields: PersonFields) -> tuple[str | None, str | None]:
    """(ubigeo, None), or (None, the problem) for an unknown place or an invalid code."""
    if fields.place is not None:
        resolved = resolve_place(*fields.place)
        if resolved is None:
            return None, "place_not_found"
        return resolved or None, None
    if fields.ubigeo is not None:
        checked = parse_ubigeo(fields.ubigeo)
        if checked is None:
            return None, "invalid_ubigeo"
        return checked or None, None
    return None, None
