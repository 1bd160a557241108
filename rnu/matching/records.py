"""Plain person records the engine matches, so rnu needs nothing from loaders/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(slots=True)
class PersonRecord:
    """One person as a source gives it; names unfolded, the engine folds them.

    Any field may be empty (None or ""): the engine compares what a record has and treats an
    absent value as saying nothing either way.
    """

    key: str
    doc_type: str | None
    doc_number: str | None
    doc_trusted: bool
    nombres: str | None
    apellido_paterno: str | None
    apellido_materno: str | None
    birth_date: date | None
    sex: str | None
    ubigeo: str | None
    # free-text place (locality, postcode): a weak field for lists that carry no ubigeo
    place: str | None = None
