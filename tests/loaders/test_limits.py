"""Compression and shared-string bombs are refused as a whole file (issue 11, item 9)."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from loaders import limits
from loaders.errors import FileRejected
from loaders.pension65 import COLUMNS as P65_COLUMNS
from loaders.pension65 import Pension65Loader
from loaders.sis import SisLoader
from tests.loaders.conftest import TODAY, read_all
from tests.rnu.ingest.builders import SIS_HEADER, population

LINE = "1,41234567,QUISPE,MAMANI,ROSA,1980-05-17,F,080101,SUBSIDIADO,2020-05-06\n"


def sis_gz(lines: int, line: str = LINE) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as fh:
        fh.write((SIS_HEADER + "\n").encode())
        fh.write(line.encode() * lines)
    return buffer.getvalue()


def test_a_gzip_that_expands_far_beyond_its_size_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "MIN_ALLOWANCE", 1 << 20)
    bomb = sis_gz(100_000)  # 7.4 MB of rows in a few KB
    assert len(bomb) < 100_000
    with pytest.raises(FileRejected, match="compression bomb"):
        read_all(SisLoader(period="2026-10", today=TODAY), bomb)


def test_a_real_roll_compresses_well_below_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MIN_ALLOWANCE", 1 << 10)
    people = population("L", 300)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as fh:
        fh.write((SIS_HEADER + "\n" + "\n".join(p.sis_line() for p in people) + "\n").encode())
    rows = read_all(SisLoader(period="2026-10", today=TODAY), buffer.getvalue())
    assert len(rows) == len(people)


def test_a_workbook_with_too_many_shared_strings_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_SHARED_STRINGS", 1_000)
    path = tmp_path / "pension65_202610.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Padron")
    for c, name in enumerate(P65_COLUMNS):
        sheet.write(3, c, name)
    for r in range(1_500):
        sheet.write_string(4 + r, 2, f"APELLIDO{r}")
    book.close()
    with pytest.raises(FileRejected, match="distinct strings"):
        read_all(Pension65Loader(period="2026-10", today=TODAY), path)


def test_a_workbook_whose_parts_expand_too_much_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pension65_202610.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Padron").write(3, 0, "DNI")
    book.close()
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * (40 << 20))  # 40 MiB in ~40 KB
    assert path.stat().st_size < 200_000
    with pytest.raises(FileRejected, match="expand to"):
        read_all(Pension65Loader(period="2026-10", today=TODAY), path)
