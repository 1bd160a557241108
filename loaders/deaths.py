"""RENIEC's monthly deaths file: `NU_DNI,FE_DEFUNCION`, UTF-8, ISO dates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from loaders.base import DeathRow, Reject
from loaders.fields import document, parse_any_date
from loaders.sector import SectorLoader
from loaders.text import read_delimited

COLUMNS = ("NU_DNI", "FE_DEFUNCION")


class DeathsLoader(SectorLoader):
    """`reniec_defunciones_YYYYMM.csv`.

    Unlike program rows, a death without a valid DNI is rejected: the DNI is the only way
    to find the person, and marking the wrong person deceased would cut their benefits.
    """

    sector: ClassVar[str] = "deaths"
    program: ClassVar[str | None] = None
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "utf-8"
    date_formats: ClassVar[tuple[str, ...]] = ("iso", "dmy", "ymd_compact")

    def rows(self, stream: BinaryIO) -> Iterator[DeathRow | Reject]:
        """Yield every data row of the file as a death or a reject."""
        for item in read_delimited(stream, encoding=self.encoding, delimiter=",", columns=COLUMNS):
            if isinstance(item, Reject):
                yield item
                continue
            number, raw = item
            reasons: list[str] = []
            doc = document(raw["NU_DNI"].strip(), "DNI")
            if doc.error is not None:
                reasons.append(doc.error)
            died = parse_any_date(raw["FE_DEFUNCION"], self.date_formats, self.today)
            if died is None:
                reasons.append("missing_date")
            elif isinstance(died, str):
                reasons.append(died)
            if reasons or doc.number is None or died is None or isinstance(died, str):
                yield Reject(number, tuple(reasons), raw)
                continue
            yield DeathRow(number, doc.number, died)
