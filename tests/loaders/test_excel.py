"""Pensión 65 and Beca 18 workbooks, built at test time with xlsxwriter."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from loaders.base import CanonicalRow
from loaders.beca18 import COLUMNS as BECA_COLUMNS
from loaders.beca18 import Beca18Loader
from loaders.errors import FileRejected
from loaders.pension65 import COLUMNS as P65_COLUMNS
from loaders.pension65 import Pension65Loader
from tests.loaders.conftest import TODAY, by_number, read_all


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> bytes:
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, dates)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path.read_bytes()


@pytest.fixture
def pension65_file(tmp_path: Path) -> bytes:
    rows: list[list[Any]] = [
        ["PROGRAMA NACIONAL DE ASISTENCIA SOLIDARIA PENSIÓN 65"],
        ["Padrón de usuarios - octubre 2026"],
        [],
        list(P65_COLUMNS),
        [1, 1234567, "Quispe", "Mamani", "Rosa", datetime(1950, 3, 12), "Lima", "Lima", "Lima",
         "CUENTA"],
        [2, 23456789, "PEÑA", "", "JOSÉ", 18000, "  CUSCO ", "cusco", "SANTIAGO", "carrito"],
        [None] * 10,
        [3, 34567890, "ROJAS", "DIAZ", "LUIS", "05/06/1955", "LIMA", "LIMA", "NARNIA", "CUENTA"],
        [4, "", "=HYPERLINK(\"x\")", "", "ANA", None, "", "", "", "CUENTA"],
        [5, 45678901, "TORRES", "", "LUZ", 60, "AREQUIPA", "AREQUIPA", "AREQUIPA", "CUENTA",
         "sobra"],
    ]  # fmt: skip
    return workbook(tmp_path / "pension65_202610.xlsx", {"Padron": rows})


class TestPension65:
    def test_rows(self, pension65_file: bytes):
        rows = by_number(read_all(Pension65Loader(period="2026-10", today=TODAY), pension65_file))
        assert list(rows) == ["Padron!1", "Padron!2", "Padron!3", "Padron!4", "Padron!5"]
        first = rows["Padron!1"]
        assert isinstance(first, CanonicalRow)
        assert (first.doc_number, first.doc_notes) == ("01234567", ("leading_zeros_restored",))
        assert (first.birth_date, first.ubigeo, first.period) == (
            date(1950, 3, 12),
            "150101",
            "2026-10",
        )
        assert first.raw["DNI"] == "1234567"
        assert first.extra == {"modalidad_pago": "CUENTA"}
        second = rows["Padron!2"]
        assert (second.birth_date, second.ubigeo) == (date(1949, 4, 12), "080106")
        assert (second.apellido_paterno, second.apellido_materno) == ("PEÑA", None)
        # A DNI identifies the person; the unknown place is a note and the ubigeo None.
        assert (rows["Padron!3"].ubigeo, rows["Padron!3"].doc_notes) == (None, ("place_not_found",))
        # A formula-looking name is data; a name with no document and no birth date is kept
        # for matching (given name and surname), with the missing document noted.
        assert rows["Padron!4"].doc_notes == ("missing_document",)
        assert rows["Padron!5"].reasons == ("wrong_field_count",)

    def test_not_a_workbook(self):
        with pytest.raises(FileRejected) as caught:
            read_all(Pension65Loader(today=TODAY), b"N;DNI\n1;2\n")
        assert caught.value.code == "unreadable_file"

    def test_sheet_without_header(self, tmp_path: Path):
        data = workbook(tmp_path / "p.xlsx", {"Hoja1": [["DNI", "NOMBRE"], [1, "X"]]})
        with pytest.raises(FileRejected) as caught:
            read_all(Pension65Loader(today=TODAY), data)
        assert caught.value.code == "header_missing"

    def test_unseekable_stream(self, pension65_file: bytes):
        class Pipe(io.RawIOBase):
            def __init__(self, data: bytes) -> None:
                self.inner = io.BytesIO(data)

            def readable(self) -> bool:
                return True

            def readinto(self, buffer):
                chunk = self.inner.read(len(buffer))
                buffer[: len(chunk)] = chunk
                return len(chunk)

        loader = Pension65Loader(today=TODAY)
        rows = list(loader.rows(io.BufferedReader(Pipe(pension65_file))))
        assert len(rows) == 5


class TestBeca18:
    def test_one_sheet_per_modality_two_date_formats(self, tmp_path: Path):
        header = list(BECA_COLUMNS)
        data = workbook(
            tmp_path / "beca18_2026.xlsx",
            {
                "ORDINARIA": [
                    header,
                    ["DNI", "01234567", "DE LA CRUZ QUISPE", "Ana María", "2007-03-04", "F",
                     "150101", "UNMSM", "MEDICINA"],
                    ["DNI", 7654321, "ROJAS", "LUIS", "2007-02-30", "M", 80101, "UNI", "CIVIL"],
                ],
                "VRAEM": [
                    header,
                    ["1", "23456789", "HUAMÁN MAMANI", "JOSÉ", "04/03/2006", "M", "090101",
                     "UNSCH", "AGRONOMÍA"],
                ],
            },
        )  # fmt: skip
        rows = read_all(Beca18Loader(period="2026", today=TODAY), data)
        assert [r.row_number for r in rows] == ["ORDINARIA!1", "ORDINARIA!2", "VRAEM!1"]
        first, second, third = rows
        assert isinstance(first, CanonicalRow)
        assert isinstance(third, CanonicalRow)
        assert (first.apellido_paterno, first.apellido_materno, first.nombres) == (
            "DE LA CRUZ",
            "QUISPE",
            "Ana María",
        )
        assert (first.birth_date, first.period, first.sex) == (date(2007, 3, 4), "2026", "F")
        assert first.extra == {"modalidad": "ORDINARIA", "institucion": "UNMSM",
                               "carrera": "MEDICINA"}  # fmt: skip
        assert isinstance(second, CanonicalRow)
        assert (second.birth_date, second.doc_notes[-1]) == (None, "impossible_date")
        assert (third.birth_date, third.doc_number, third.extra["modalidad"]) == (
            date(2006, 3, 4),
            "23456789",
            "VRAEM",
        )
