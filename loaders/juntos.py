"""MIDIS Juntos (household transfers): Latin-1, `|` separated, one field for the full name."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.fields import PersonFields
from loaders.sector import ProgramLoader
from loaders.text import read_delimited
from rnu.normalize.names import LAYOUT_SURNAMES_COMMA_NAMES

COLUMNS = (
    "PERIODO",
    "UBIGEO",
    "COD_HOGAR",
    "DNI_TITULAR",
    "APELLIDOS_NOMBRES_TITULAR",
    "FEC_NAC",
    "MONTO",
    "ESTADO",
)


def parse_amount(text: str) -> str | None:
    """A non-negative amount with a decimal point, normalised ("200" -> "200.00"); else None."""
    text = text.strip()
    if not text or "," in text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return str(amount.quantize(Decimal("0.01")))


class JuntosLoader(ProgramLoader):
    """`juntos_YYYYMM.txt`: the titular of each household, name as `PATERNO MATERNO, NOMBRES`."""

    sector: ClassVar[str] = "juntos"
    program: ClassVar[str] = "JUNTOS"
    unit: ClassVar[str] = "household"
    encoding: ClassVar[str] = "latin-1"
    # Declared DD/MM/YYYY first; other unambiguous spellings as fallbacks ("mdy" is only
    # reached when the day-first reading is impossible, e.g. 12/25/1980).
    date_formats: ClassVar[tuple[str, ...]] = ("dmy", "iso", "ymd_compact", "mdy")

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        build = self.builder().build
        for item in read_delimited(
            stream, encoding=self.encoding, delimiter="|", columns=COLUMNS, quotechar=None
        ):
            if isinstance(item, Reject):
                yield item
                continue
            number, raw = item
            reasons: list[str] = []
            amount = parse_amount(raw["MONTO"])
            if amount is None:
                reasons.append("invalid_amount")
            yield build(
                number,
                raw,
                PersonFields(
                    doc=raw["DNI_TITULAR"],
                    full_name=raw["APELLIDOS_NOMBRES_TITULAR"],
                    layout=LAYOUT_SURNAMES_COMMA_NAMES,
                    birth=raw["FEC_NAC"],
                    ubigeo=raw["UBIGEO"],
                    row_period=raw["PERIODO"],
                    household_code=raw["COD_HOGAR"].strip() or None,
                ),
                extra={"monto": amount or "", "estado": raw["ESTADO"].strip().upper()},
                reasons=reasons,
            )
