"""Streaming reads of Excel workbooks (openpyxl read-only): header finding and row numbering.

Row numbers are `sheet!n`, n counting the sheet's data rows from 1 after its header; title
rows above the header and fully empty rows are not data rows. Cells keep their Python type
(int, float, datetime, str) for the loader, and `raw` gets them as strings.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from typing import IO, Any, BinaryIO

from openpyxl import load_workbook

from loaders.base import Reject
from loaders.errors import FileRejected
from loaders.limits import check_workbook
from loaders.text import MAX_FIELD_CHARS, RAW_PREVIEW_CHARS

_KEY = re.compile(r"[^0-9A-Z]")
HEADER_SCAN_ROWS = 20  # title rows allowed above a sheet's header


def header_key(value: Any) -> str:
    """A header cell compared without case, spaces or punctuation ("FECHA NAC." = "FECHANAC")."""
    return _KEY.sub("", str(value).upper()) if value is not None else ""


def cell_text(value: Any) -> str:
    """A cell as the string kept in `raw`: numbers without a spurious ".0", dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _seekable(stream: BinaryIO) -> IO[bytes]:
    """openpyxl needs random access (an xlsx is a zip); spool a pipe to a temporary file."""
    if stream.seekable():
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


def read_sheets(
    stream: BinaryIO, *, columns: Sequence[str], required: Sequence[str] | None = None
) -> Iterator[Reject | tuple[str, str, dict[str, str], dict[str, Any]]]:
    """Yield `(sheet, row_number, raw, cells)` per data row of every sheet, or a `Reject`.

    Each non-empty sheet must have a header row (within its first `HEADER_SCAN_ROWS` rows)
    holding the `required` columns (default: all); `cells` maps each contract column to its
    typed value. A row with values beyond the header's last column is `wrong_field_count`.
    """
    source = _seekable(stream)
    try:
        check_workbook(source)  # before openpyxl holds every shared string in memory
    except FileRejected:
        if source is not stream:
            source.close()
        raise
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl's style/extension notices
            book = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        if source is not stream:
            source.close()
        raise FileRejected("unreadable_file", f"not a readable xlsx workbook ({exc})") from exc
    wanted = {header_key(c): c for c in columns}
    need = [header_key(c) for c in (columns if required is None else required)]
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # trust the cells, not a possibly stale <dimension>
            yield from _sheet_rows(sheet, wanted, need)
    finally:
        book.close()
        if source is not stream:
            source.close()


def _is_empty(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _sheet_rows(
    sheet: Any, wanted: dict[str, str], need: list[str]
) -> Iterator[Reject | tuple[str, str, dict[str, str], dict[str, Any]]]:
    rows = sheet.iter_rows(values_only=True)
    names: list[str] | None = None
    seen = 0
    for values in rows:
        if _is_empty(values):
            continue
        keys = [header_key(v) for v in values]
        if all(k in keys for k in need):
            names = [wanted.get(k, cell_text(v)) for k, v in zip(keys, values, strict=True)]
            while names and not names[-1]:
                names.pop()
            break
        seen += 1  # a title row
        if seen >= HEADER_SCAN_ROWS:
            break
    if names is None:
        if not seen:
            return  # an empty sheet has no data rows
        raise FileRejected(
            "header_missing", f"sheet {sheet.title!r} has no header row with the agreed columns"
        )
    width = len(names)
    number = 0
    for values in rows:
        if _is_empty(values):
            continue
        number += 1
        row_number = f"{sheet.title}!{number}"
        texts = [cell_text(v) for v in values]
        if any(t.strip() for t in texts[width:]):
            preview = "\t".join(texts)[:RAW_PREVIEW_CHARS]
            yield Reject(row_number, ("wrong_field_count",), preview)
            continue
        texts += [""] * (width - len(texts))
        raw = dict(zip(names, texts, strict=False))
        if any(len(t) > MAX_FIELD_CHARS for t in texts):
            yield Reject(
                row_number, ("field_too_long",), {k: v[:RAW_PREVIEW_CHARS] for k, v in raw.items()}
            )
            continue
        cells = list(values) + [None] * (width - len(values))
        yield sheet.title, row_number, raw, dict(zip(names, cells, strict=False))
