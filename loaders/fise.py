"""MINEM FISE (LPG voucher per household): UTF-8 with BOM, comma separated, no birth date."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.fields import PersonFields, parse_any_date
from loaders.sector import ProgramLoader
from loaders.text import read_delimited
from rnu.normalize.names import LAYOUT_NAMES_FIRST

COLUMNS = (
    "ID_VALE",
    "DNI_BENEFICIARIO",
    "NOMBRE_BENEFICIARIO",
    "SUMINISTRO",
    "UBIGEO",
    "FECHA_CANJE",
)


class FiseLoader(ProgramLoader):
    """`fise_YYYYMM.csv`: name as `NOMBRES PATERNO MATERNO`; the household is its `SUMINISTRO`."""

    sector: ClassVar[str] = "fise"
    program: ClassVar[str] = "FISE"
    unit: ClassVar[str] = "household"
    encoding: ClassVar[str] = "utf-8"

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        build = self.builder().build
        for item in read_delimited(stream, encoding=self.encoding, delimiter=",", columns=COLUMNS):
            if isinstance(item, Reject):
                yield item
                continue
            number, raw = item
            reasons: list[str] = []
            redeemed = parse_any_date(raw["FECHA_CANJE"], self.date_formats, self.today)
            if isinstance(redeemed, str):
                reasons.append(redeemed)
            supply = raw["SUMINISTRO"].strip()
            yield build(
                number,
                raw,
                PersonFields(
                    doc=raw["DNI_BENEFICIARIO"],
                    full_name=raw["NOMBRE_BENEFICIARIO"],
                    layout=LAYOUT_NAMES_FIRST,
                    has_birth_column=False,
                    ubigeo=raw["UBIGEO"],
                    household_code=supply or None,
                ),
                extra={
                    "id_vale": raw["ID_VALE"].strip(),
                    "suministro": supply,
                    "fecha_canje": redeemed.isoformat()
                    if redeemed is not None and not isinstance(redeemed, str)
                    else "",
                },
                reasons=reasons,
            )
