"""DCI enrollment updates: beneficiaries an agency pushes as JSON lines, as canonical rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO

from rnu.errors import InvalidInput
from rnu.ingest.rows import CanonicalRow, Reject
from rnu.person.service import normalize_document

_SEX = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F"}


def _text(record: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return None


def dci_row(row_number: int, record: dict[str, Any]) -> CanonicalRow | Reject:
    """One pushed beneficiary as a canonical row, or a Reject with reason codes."""
    raw = {k: str(v) for k, v in record.items() if not isinstance(v, dict | list)}
    reasons: list[str] = []
    doc_type = (_text(record, "identifier_type", "id_type") or "").upper() or None
    number = _text(record, "identifier_value", "id_value")
    if doc_type or number:
        try:
            number = normalize_document(number or "", doc_type or "DNI")
            doc_type = doc_type or "DNI"
        except InvalidInput:
            reasons.append("invalid_document")
    nombres = _text(record, "given_name", "nombres")
    paterno = _text(record, "surname", "family_name", "apellido_paterno")
    materno = _text(record, "second_surname", "apellido_materno")
    if not nombres or not paterno:
        reasons.append("missing_name")
    birth: date | None = None
    birth_text = _text(record, "birth_date", "fecha_nacimiento")
    if birth_text:
        try:
            birth = date.fromisoformat(birth_text[:10])
        except ValueError:
            reasons.append("invalid_date")
    ubigeo = _text(record, "ubigeo", "location")
    if ubigeo and not (ubigeo.isdigit() and len(ubigeo) == 6):
        reasons.append("invalid_ubigeo")
    if reasons:
        return Reject(str(row_number), tuple(reasons), raw)
    return CanonicalRow(
        row_number=str(row_number),
        doc_type=doc_type,
        doc_number=number,
        nombres=nombres,
        apellido_paterno=paterno,
        apellido_materno=materno,
        full_name=" ".join(p for p in (nombres, paterno, materno) if p),
        birth_date=birth,
        sex=_SEX.get((_text(record, "sex") or "").upper()),
        ubigeo=ubigeo,
        household_code=_text(record, "assistance_unit", "household_code"),
        raw=raw,
    )


class DciEnrollmentLoader:
    """A DCI enrollment update (records pushed as JSON lines) for one program's roll.

    It implements `RollLoader` like the sector loaders, so an update goes through the same
    program pipeline (matching, quarantine, snapshot replacement) as a sector's file.
    """

    def __init__(self, *, program: str, unit: str) -> None:
        self._program = program
        self._unit = unit

    @property
    def program(self) -> str:
        return self._program

    @property
    def unit(self) -> str:
        return self._unit

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Stream the stored JSON-lines file of a DCI enrollment update."""
        for number, line in enumerate(stream, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                yield Reject(str(number), ("malformed_line",), line.decode("utf-8", "replace"))
                continue
            if not isinstance(record, dict):
                yield Reject(str(number), ("malformed_line",), str(record)[:200])
                continue
            yield dci_row(number, record)
