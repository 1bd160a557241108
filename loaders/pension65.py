"""MIDIS Pensión 65 (people aged 65+): an Excel workbook, places given by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.excel import cell_text, read_sheets
from loaders.fields import PersonFields
from loaders.sector import ProgramLoader

COLUMNS = (
    "N°",
    "DNI",
    "APELLIDO PATERNO",
    "APELLIDO MATERNO",
    "NOMBRES",
    "FECHA NAC.",
    "DEPARTAMENTO",
    "PROVINCIA",
    "DISTRITO",
    "MODALIDAD PAGO",
)
REQUIRED = COLUMNS[1:]  # the running number is decoration


class Pension65Loader(ProgramLoader):
    """`pension65_YYYYMM.xlsx`: three title rows, then the header; DNIs stored as numbers.

    The DNI's lost leading zeros are restored by `parse_document` (noted in `doc_notes`);
    dates may be real Excel dates, serial numbers or text; the ubigeo is resolved from the
    department, province and district names (`place_not_found` when they name no district).
    """

    sector: ClassVar[str] = "pension65"
    program: ClassVar[str] = "PENSION65"
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "xlsx"
    date_formats: ClassVar[tuple[str, ...]] = ("excel", "dmy", "iso", "ymd_compact")

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of every sheet as a canonical row or a reject."""
        build = self.builder().build
        for item in read_sheets(stream, columns=COLUMNS, required=REQUIRED):
            if isinstance(item, Reject):
                yield item
                continue
            _, number, raw, cells = item
            dni = cells["DNI"]
            yield build(
                number,
                raw,
                PersonFields(
                    doc=dni if isinstance(dni, int | float) else cell_text(dni),
                    nombres=raw["NOMBRES"],
                    paterno=raw["APELLIDO PATERNO"],
                    materno=raw["APELLIDO MATERNO"],
                    birth=cells["FECHA NAC."],
                    place=(raw["DEPARTAMENTO"], raw["PROVINCIA"], raw["DISTRITO"]),
                ),
                extra={"modalidad_pago": raw["MODALIDAD PAGO"].strip().upper()},
            )
