"""MIDIS Cuna Más (children under 36 months): UTF-8 JSON lines, one child per line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.fields import PersonFields, document
from loaders.sector import ProgramLoader
from loaders.text import MAX_FIELD_CHARS, LineReader, is_garbage

CHILD_FIELDS = ("cui", "nombres", "apellidos", "fecha_nacimiento")


def _text(value: Any) -> str:
    """A JSON value as the string kept in `raw` ("" for null)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _scalar(value: Any) -> str | int | float | None:
    """A JSON value as a document/date input; objects and lists become their JSON text."""
    if value is None or isinstance(value, str | int | float):
        return value
    return _text(value)


class CunaMasLoader(ProgramLoader):
    """`cunamas_YYYYMM.jsonl`: `{"periodo","ubigeo","servicio","nino":{...},"cuidador_dni"}`.

    `nino.apellidos` holds both surnames; `nino.cui` may be null (then the child is matched
    by name and birth date). A line that is not a JSON object is `invalid_json`.
    """

    sector: ClassVar[str] = "cunamas"
    program: ClassVar[str] = "CUNAMAS"
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "utf-8"

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        build = self.builder().build
        number = 0
        for text, problem in LineReader(stream, self.encoding):
            number += 1
            row_number = str(number)
            if problem is not None:
                yield Reject(row_number, (problem,), text)
                continue
            try:
                record = json.loads(text)
            except ValueError:
                code = "binary_garbage" if is_garbage(text) else "invalid_json"
                yield Reject(row_number, (code,), text[:1000])
                continue
            if not isinstance(record, dict):
                yield Reject(row_number, ("invalid_json",), text[:1000])
                continue
            child = record.get("nino")
            if not isinstance(child, dict):
                child = {}
            raw = {key: _text(record.get(key)) for key in ("periodo", "ubigeo", "servicio")}
            raw.update({f"nino.{key}": _text(child.get(key)) for key in CHILD_FIELDS})
            raw["cuidador_dni"] = _text(record.get("cuidador_dni"))
            if len(text) > MAX_FIELD_CHARS and any(len(v) > MAX_FIELD_CHARS for v in raw.values()):
                yield Reject(row_number, ("field_too_long",), {k: v[:1000] for k, v in raw.items()})
                continue
            caregiver = _scalar(record.get("cuidador_dni"))
            caregiver_doc = document(caregiver.strip() if isinstance(caregiver, str) else caregiver)
            yield build(
                row_number,
                raw,
                PersonFields(
                    doc=_scalar(child.get("cui")),
                    declared="CUI",
                    nombres=raw["nino.nombres"],
                    apellidos=raw["nino.apellidos"],
                    birth=_scalar(child.get("fecha_nacimiento")),
                    ubigeo=raw["ubigeo"],
                    row_period=raw["periodo"] if record.get("periodo") is not None else None,
                ),
                extra={
                    "servicio": raw["servicio"].strip(),
                    "cuidador_dni": caregiver_doc.number or raw["cuidador_dni"].strip(),
                },
            )
