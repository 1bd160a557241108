"""The mapping-driven loader: a TOML file describes a new program's file, no code needed.

A mapping has these tables (see `loaders/mappings/*.toml` for complete examples):

```toml
[program]            # code (e.g. "VASO_DE_LECHE"), sector (lowercase), unit, optional period
[file]               # format = "csv" | "fixed" | "jsonl" | "xlsx"; encoding; csv: delimiter,
                     # quotechar, has_header, skip_rows, columns (names, when no header);
                     # xlsx: sheets (optional list; default all)
[columns]            # canonical field = source: a header name (csv/xlsx), "17-24" or
                     # [17, 24] 1-based positions (fixed), a dotted path "nino.cui" (jsonl)
[columns.extra]      # extra name = source, kept in CanonicalRow.extra
[dates]              # formats = ["dmy", "iso", ...] tried in order
[names]              # layout of `full_name` ("PATERNO MATERNO, NOMBRES", ...)
[document]           # declared = "DNI" when there is no doc_type column
[values.sex]         # optional: the file's sex codes, e.g. "1" = "M"
```

Canonical fields: doc_number, doc_type, full_name | (nombres + apellido_paterno
[+ apellido_materno] | nombres + apellidos), birth_date, sex, ubigeo | (departamento,
provincia, distrito), period, household_code. Rows come out exactly as from a sector
loader (same checks, same reason codes); a mapped column missing from the file's header
rejects the file as `unknown_columns`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from loaders.base import CanonicalRow, Reject
from loaders.errors import FileRejected
from loaders.excel import cell_text, read_sheets
from loaders.fields import SEX, PersonFields, PersonRowBuilder
from loaders.text import MAX_FIELD_CHARS, LineReader, canonical_encoding, read_delimited
from rnu.normalize.dates import DATE_FORMATS
from rnu.normalize.names import LAYOUT_SURNAMES_COMMA_NAMES, LAYOUTS

FORMATS = frozenset({"csv", "fixed", "jsonl", "xlsx"})
FIELDS = frozenset(
    {
        "doc_number",
        "doc_type",
        "full_name",
        "nombres",
        "apellido_paterno",
        "apellido_materno",
        "apellidos",
        "birth_date",
        "sex",
        "ubigeo",
        "departamento",
        "provincia",
        "distrito",
        "period",
        "household_code",
    }
)
PLACE = ("departamento", "provincia", "distrito")


class MappingError(ValueError):
    """The mapping itself is wrong (a config error for whoever wrote it, not a data error)."""


def _position(source: Any, field: str) -> tuple[int, int]:
    """A fixed-width source, "17-24" or [17, 24] (1-based, inclusive), as a Python slice."""
    if isinstance(source, str) and "-" in source:
        first, _, last = source.partition("-")
        bounds = [first.strip(), last.strip()]
    elif isinstance(source, list) and len(source) == 2:
        bounds = [str(b) for b in source]
    else:
        raise MappingError(f"{field}: a fixed-width column is 'start-end' or [start, end]")
    if not all(b.isdigit() for b in bounds) or not 1 <= int(bounds[0]) <= int(bounds[1]):
        raise MappingError(f"{field}: invalid position range {source!r}")
    return int(bounds[0]) - 1, int(bounds[1])


class MappingLoader:
    """A loader configured by a mapping (a TOML path or an already-parsed mapping)."""

    def __init__(
        self,
        mapping: Mapping[str, Any] | Path,
        *,
        period: str | None = None,
        today: date | None = None,
    ) -> None:
        if isinstance(mapping, Path):
            with mapping.open("rb") as handle:
                mapping = tomllib.load(handle)
        program = dict(mapping.get("program", {}))
        file = dict(mapping.get("file", {}))
        columns = dict(mapping.get("columns", {}))
        self.extra_columns: dict[str, Any] = dict(columns.pop("extra", {}))
        self.columns: dict[str, Any] = columns
        self.program: str | None = program.get("code")
        self.sector: str = str(program.get("sector") or (self.program or "")).lower()
        self.unit: str = program.get("unit", "person")
        self.period = period or program.get("period")
        self.today = today or date.today()
        self.format: str = file.get("format", "csv")
        self.encoding: str = file.get("encoding", "utf-8")
        self.delimiter: str = file.get("delimiter", ",")
        self.quotechar: str | None = file.get("quotechar", '"') or None
        self.has_header: bool = file.get("has_header", True)
        self.skip_rows: int = file.get("skip_rows", 0)
        self.header: list[str] = list(file.get("columns", []))
        self.sheets: list[str] | None = file.get("sheets")
        self.date_formats = tuple(mapping.get("dates", {}).get("formats", ["iso"]))
        self.layout: str = mapping.get("names", {}).get("layout", LAYOUT_SURNAMES_COMMA_NAMES)
        self.declared: str | None = mapping.get("document", {}).get("declared")
        self.sex_codes = {
            **SEX,
            **{str(k).upper(): v for k, v in mapping.get("values", {}).get("sex", {}).items()},
        }
        self._validate()
        self.slices: dict[str, tuple[int, int]] = {}
        if self.format == "fixed":
            sources = {**self.columns, **{f"extra.{k}": v for k, v in self.extra_columns.items()}}
            self.slices = {name: _position(source, name) for name, source in sources.items()}

    def _validate(self) -> None:
        if self.format not in FORMATS:
            raise MappingError(f"file.format must be one of {sorted(FORMATS)}")
        if self.format != "xlsx":
            try:
                canonical_encoding(self.encoding)
            except (LookupError, ValueError) as exc:
                raise MappingError(f"file.encoding {self.encoding!r} is not supported") from exc
        if self.unit not in {"person", "household"}:
            raise MappingError("program.unit must be 'person' or 'household'")
        if not self.sector:
            raise MappingError("program.code or program.sector is required")
        unknown = set(self.columns) - FIELDS
        if unknown:
            raise MappingError(f"unknown canonical fields in [columns]: {sorted(unknown)}")
        bad_formats = set(self.date_formats) - DATE_FORMATS
        if bad_formats:
            raise MappingError(f"unknown date formats: {sorted(bad_formats)}")
        if self.layout not in LAYOUTS:
            raise MappingError(f"names.layout must be one of {sorted(LAYOUTS)}")
        has_name = "full_name" in self.columns or (
            "nombres" in self.columns
            and ("apellido_paterno" in self.columns or "apellidos" in self.columns)
        )
        if not has_name:
            raise MappingError("[columns] needs full_name, or nombres with the surname columns")
        if any(p in self.columns for p in PLACE) and not all(p in self.columns for p in PLACE):
            raise MappingError("a place by name needs departamento, provincia and distrito")
        if self.format == "csv" and not self.has_header:
            missing = set(self._sources()) - set(self.header)
            if not self.header or missing:
                raise MappingError("a csv without header needs file.columns naming every source")

    def _sources(self) -> list[str]:
        return [str(s) for s in (*self.columns.values(), *self.extra_columns.values())]

    def _records(
        self, stream: BinaryIO
    ) -> Iterator[Reject | tuple[str, dict[str, str], dict[str, Any]]]:
        """(row_number, raw, values by canonical name) per row, in the mapping's format."""
        if self.format == "csv":
            yield from self._csv(stream)
        elif self.format == "fixed":
            yield from self._fixed(stream)
        elif self.format == "jsonl":
            yield from self._jsonl(stream)
        else:
            yield from self._xlsx(stream)

    def _by_field(self, get: Any) -> dict[str, Any]:
        values = {field: get(source) for field, source in self.columns.items()}
        for name, source in self.extra_columns.items():
            values[f"extra.{name}"] = get(source)
        return values

    def _csv(
        self, stream: BinaryIO
    ) -> Iterator[Reject | tuple[str, dict[str, str], dict[str, Any]]]:
        sources = self._sources()
        try:
            for item in read_delimited(
                stream,
                encoding=self.encoding,
                delimiter=self.delimiter,
                columns=sources if self.has_header else self.header,
                required=sources,
                quotechar=self.quotechar,
                has_header=self.has_header,
                skip_rows=self.skip_rows,
            ):
                if isinstance(item, Reject):
                    yield item
                else:
                    number, raw = item
                    yield number, raw, self._by_field(raw.__getitem__)
        except FileRejected as exc:
            if exc.code == "missing_columns":
                raise FileRejected("unknown_columns", exc.detail) from exc
            raise

    def _fixed(
        self, stream: BinaryIO
    ) -> Iterator[Reject | tuple[str, dict[str, str], dict[str, Any]]]:
        needed = max(end for _, end in self.slices.values())
        reader = LineReader(stream, self.encoding)
        number = 0
        for index, (text, problem) in enumerate(reader):
            if index < self.skip_rows:
                continue
            number += 1
            if problem is not None:
                yield Reject(str(number), (problem,), text)
                continue
            if len(text) < needed:
                code = "truncated_line" if reader.unterminated else "wrong_line_length"
                yield Reject(str(number), (code,), text[:1000])
                continue
            cut = {name: text[start:end] for name, (start, end) in self.slices.items()}
            raw = {str(self._source_of(name)): value for name, value in cut.items()}
            yield str(number), raw, cut

    def _source_of(self, name: str) -> Any:
        if name.startswith("extra."):
            return self.extra_columns[name[6:]]
        return self.columns[name]

    def _jsonl(
        self, stream: BinaryIO
    ) -> Iterator[Reject | tuple[str, dict[str, str], dict[str, Any]]]:
        sources = self._sources()
        number = 0
        for text, problem in LineReader(stream, self.encoding):
            number += 1
            if problem is not None:
                yield Reject(str(number), (problem,), text)
                continue
            try:
                record = json.loads(text)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                yield Reject(str(number), ("invalid_json",), text[:1000])
                continue
            found = {source: _dig(record, source) for source in sources}
            raw = {source: _json_text(value) for source, value in found.items()}
            yield str(number), raw, self._by_field(found.__getitem__)

    def _xlsx(
        self, stream: BinaryIO
    ) -> Iterator[Reject | tuple[str, dict[str, str], dict[str, Any]]]:
        for item in read_sheets(stream, columns=self._sources()):
            if isinstance(item, Reject):
                yield item
                continue
            sheet, number, raw, cells = item
            if self.sheets is None or sheet in self.sheets:
                yield number, raw, self._by_field(cells.__getitem__)

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        builder = PersonRowBuilder(
            period=self.period,
            today=self.today,
            date_formats=self.date_formats,
            sex_codes=self.sex_codes,
        )
        for item in self._records(stream):
            if isinstance(item, Reject):
                yield item
                continue
            number, raw, values = item
            if any(isinstance(v, str) and len(v) > MAX_FIELD_CHARS for v in values.values()):
                yield Reject(number, ("field_too_long",), {k: v[:1000] for k, v in raw.items()})
                continue

            yield self._build(builder, number, raw, values)

    def _build(
        self, builder: PersonRowBuilder, number: str, raw: dict[str, str], values: dict[str, Any]
    ) -> CanonicalRow | Reject:
        columns = self.columns

        def text(field: str) -> str | None:
            return _plain(values.get(field)) if field in columns else None

        doc = values.get("doc_number")
        birth = values.get("birth_date")
        return builder.build(
            number,
            raw,
            PersonFields(
                doc=doc if _is_number(doc) else _plain(doc),
                declared=text("doc_type") if "doc_type" in columns else self.declared,
                nombres=text("nombres"),
                paterno=text("apellido_paterno"),
                materno=text("apellido_materno"),
                apellidos=text("apellidos"),
                full_name=text("full_name"),
                layout=self.layout,
                birth=birth if _is_number(birth) or isinstance(birth, date) else text("birth_date"),
                has_birth_column="birth_date" in columns,
                sex=text("sex"),
                ubigeo=text("ubigeo"),
                place=(
                    (
                        _plain(values["departamento"]),
                        _plain(values["provincia"]),
                        _plain(values["distrito"]),
                    )
                    if "departamento" in columns
                    else None
                ),
                row_period=text("period"),
                household_code=(text("household_code") or "").strip() or None,
            ),
            extra={name: _plain(values[f"extra.{name}"]).strip() for name in self.extra_columns},
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dig(record: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a JSON object, or None."""
    value: Any = record
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _plain(value: Any) -> str:
    """Any cell or JSON value as text ("" for missing)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return _json_text(value)
    return cell_text(value)
