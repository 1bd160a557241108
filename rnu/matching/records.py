"""Plain person records the engine matches, so rnu needs nothing from loaders/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(slots=True)
class PersonRecord:
    """One person as a source gives it; names unfolded, the engine folds them."""

    key: str
    doc_type: str | None
    doc_number: str | None
    doc_trusted: bool
    nombres: str
    apellido_paterno: str
    apellido_materno: str | None
    birth_date: date | None
    sex: str | None
    ubigeo: str | None
