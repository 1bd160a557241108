"""The canonical shapes every loader produces and the ingestion pipeline consumes.

They live in `rnu` (not `loaders`) because the pipeline in `rnu.ingest` consumes them and
`rnu` must not import the layers above it; `loaders.base` re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO, Protocol, TypeVar


@dataclass(slots=True)
class CanonicalRow:
    """One program row (a user, or a household's titular) in RNU's canonical shape.

    Names are kept as the sector wrote them (stripped, for display); comparison forms are
    computed by `rnu.normalize` where they are needed. `row_number` follows docs/formats.md: data
    rows counted from 1 in the file's own order, or `sheet!n` for Excel workbooks.
    """

    row_number: str
    period: str | None = None  # YYYY-MM, when the file says it
    doc_type: str | None = None  # "DNI" | "CE" | "CUI" | None (no document)
    doc_number: str | None = None  # normalised digits, without check character
    # Document repairs and errors ("leading_zeros_restored", "wrong_check_char"), then the
    # problems of person fields that were unusable and left None ("impossible_date",
    # "invalid_sex"): see loaders.fields for why those are notes, not rejects.
    doc_notes: tuple[str, ...] = ()
    nombres: str | None = None
    apellido_paterno: str | None = None
    apellido_materno: str | None = None
    full_name: str = ""  # the name as written by the sector, for display
    birth_date: date | None = None
    sex: str | None = None  # "M" | "F" | None
    ubigeo: str | None = None  # INEI code
    household_code: str | None = None  # the sector's own household code, if any
    extra: dict[str, str] = field(default_factory=dict)  # sector fields kept as evidence
    raw: dict[str, str] = field(default_factory=dict)  # the row as read, for quarantine/audit


@dataclass(slots=True)
class Reject:
    """A row that cannot be loaded, with machine-readable reasons (see `loaders.reasons`)."""

    row_number: str
    reasons: tuple[str, ...]
    raw: dict[str, str] | str


@dataclass(slots=True)
class PghRow:
    """One person of SISFOH's Padrón General de Hogares, with the household facts repeated."""

    row_number: str
    person_key: str  # CO_HOGAR-NU_ORDEN
    household_code: str
    member_number: int
    ubigeo: str
    area: str  # "U" | "R"
    doc_type: str | None
    doc_number: str | None
    nombres: str
    apellido_paterno: str
    apellido_materno: str | None
    birth_date: date | None
    sex: str | None
    relationship: int | None
    cse: str | None  # "PE" | "P" | "NP" | None when never evaluated
    cse_from: date | None
    cse_to: date | None


@dataclass(slots=True)
class DeathRow:
    """One death registered by RENIEC."""

    row_number: str
    dni: str
    death_date: date


Row = CanonicalRow | PghRow | DeathRow
RowT_co = TypeVar("RowT_co", covariant=True)


class Loader(Protocol[RowT_co]):
    """A streaming reader of one file format: bytes in, rows or rejects out, no database.

    Every sector loader implements it (`loaders.sector`), and so does the mapping-driven
    loader of outside lists; the pipeline in `usecases.loads` and the cross-checks in
    `rnu.integrity.lists` take one. Row types tell the kinds apart, so a PGH reader cannot
    be handed to the program pipeline.
    """

    def rows(self, stream: BinaryIO) -> Iterator[RowT_co | Reject]: ...


class RollLoader(Loader[CanonicalRow], Protocol):
    """A program's roll: canonical person rows, for one program, per person or household."""

    @property
    def program(self) -> str: ...

    @property
    def unit(self) -> str: ...
