"""MINSA's SIS subsidiado roll: gzip, UTF-8, comma separated; the largest file, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.fields import parse_any_date
from loaders.sector import SectorLoader
from loaders.text import maybe_gunzip, read_delimited

COLUMNS = (
    "TIPO_DOC",
    "NUM_DOC",
    "APE_PAT",
    "APE_MAT",
    "NOMBRES",
    "FEC_NAC",
    "SEXO",
    "UBIGEO_ADSCRIPCION",
    "REGIMEN",
    "FEC_AFILIACION",
)


class SisLoader(SectorLoader):
    """`sis_YYYYMM.csv.gz`; a plain (not gzipped) CSV is read as well."""

    sector: ClassVar[str] = "sis"
    program: ClassVar[str | None] = "SIS"
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "utf-8"

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        build = self.builder().build
        formats, today = self.date_formats, self.today
        for item in read_delimited(
            maybe_gunzip(stream), encoding=self.encoding, delimiter=",", columns=COLUMNS
        ):
            if isinstance(item, Reject):
                yield item
                continue
            number, raw = item
            reasons: list[str] = []
            enrolled = parse_any_date(raw["FEC_AFILIACION"], formats, today)
            if isinstance(enrolled, str):
                reasons.append(enrolled)
            yield build(
                number,
                raw,
                doc=raw["NUM_DOC"],
                declared=raw["TIPO_DOC"],
                nombres=raw["NOMBRES"],
                paterno=raw["APE_PAT"],
                materno=raw["APE_MAT"],
                birth=raw["FEC_NAC"],
                sex=raw["SEXO"],
                ubigeo=raw["UBIGEO_ADSCRIPCION"],
                extra={
                    "regimen": raw["REGIMEN"].strip(),
                    "fec_afiliacion": enrolled.isoformat()
                    if enrolled is not None and not isinstance(enrolled, str)
                    else "",
                },
                reasons=reasons,
            )
