"""MINEDU/PRONABEC Beca 18: a yearly Excel workbook with one sheet per modality."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.excel import cell_text, read_sheets
from loaders.fields import PersonFields
from loaders.sector import ProgramLoader

COLUMNS = (
    "TIPO_DOC",
    "NRO_DOC",
    "APELLIDOS",
    "NOMBRES",
    "FECHA_NACIMIENTO",
    "SEXO",
    "UBIGEO_PROCEDENCIA",
    "INSTITUCION",
    "CARRERA",
)


class Beca18Loader(ProgramLoader):
    """`beca18_YYYY.xlsx`: the sheet name is the modality; text dates differ across sheets.

    Sheets write birth dates as text in different formats (ISO in one, DD/MM/YYYY in
    another); both are unambiguous, so they are tried in that order, with real Excel
    dates and serials accepted too. `period` is the year ("YYYY").
    """

    sector: ClassVar[str] = "beca18"
    program: ClassVar[str] = "BECA18"
    unit: ClassVar[str] = "person"
    yearly: ClassVar[bool] = True
    encoding: ClassVar[str] = "xlsx"
    date_formats: ClassVar[tuple[str, ...]] = ("iso", "dmy", "ymd_compact", "excel")

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of every sheet as a canonical row or a reject."""
        build = self.builder().build
        for item in read_sheets(stream, columns=COLUMNS):
            if isinstance(item, Reject):
                yield item
                continue
            sheet, number, raw, cells = item
            doc = cells["NRO_DOC"]
            yield build(
                number,
                raw,
                PersonFields(
                    doc=doc if isinstance(doc, int | float) else cell_text(doc),
                    declared=raw["TIPO_DOC"],
                    nombres=raw["NOMBRES"],
                    apellidos=raw["APELLIDOS"],
                    birth=cells["FECHA_NACIMIENTO"],
                    sex=raw["SEXO"],
                    ubigeo=raw["UBIGEO_PROCEDENCIA"],
                ),
                extra={
                    "modalidad": sheet.strip(),
                    "institucion": raw["INSTITUCION"].strip(),
                    "carrera": raw["CARRERA"].strip(),
                },
            )
