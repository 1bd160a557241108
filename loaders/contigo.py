"""MIDIS Contigo (severe disability pension): cp1252, quoted CSV, month-first dates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.fields import PersonFields
from loaders.sector import ProgramLoader
from loaders.text import read_delimited

COLUMNS = (
    "DNI",
    "NOMBRES",
    "APELLIDOS",
    "FECHA_NACIMIENTO",
    "UBIGEO",
    "CERTIFICADO_CONADIS",
    "GRADO",
)


class ContigoLoader(ProgramLoader):
    """`contigo_YYYYMM.csv`: `APELLIDOS` holds both surnames; dates are MM/DD/YYYY."""

    sector: ClassVar[str] = "contigo"
    program: ClassVar[str] = "CONTIGO"
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "cp1252"
    # The export writes MM/DD/YYYY (a known bug); day-first only when month-first is impossible.
    date_formats: ClassVar[tuple[str, ...]] = ("mdy", "iso", "ymd_compact", "dmy")

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        build = self.builder().build
        for item in read_delimited(stream, encoding=self.encoding, delimiter=",", columns=COLUMNS):
            if isinstance(item, Reject):
                yield item
                continue
            number, raw = item
            yield build(
                number,
                raw,
                PersonFields(
                    doc=raw["DNI"],
                    nombres=raw["NOMBRES"],
                    apellidos=raw["APELLIDOS"],
                    birth=raw["FECHA_NACIMIENTO"],
                    ubigeo=raw["UBIGEO"],
                ),
                extra={
                    "certificado": raw["CERTIFICADO_CONADIS"].strip(),
                    "grado": raw["GRADO"].strip().upper(),
                },
            )
