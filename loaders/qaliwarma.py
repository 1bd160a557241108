"""MIDIS/MINEDU Qali Warma (school meals): cp1252, fixed width, no header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from loaders.base import CanonicalRow, Reject
from loaders.fields import SEX_NUMERIC, PersonFields
from loaders.sector import ProgramLoader
from loaders.text import LineReader, shape_problem
from rnu.normalize.names import LAYOUT_NAMES_FIRST

# (name, start, end) as Python slices of the 1-based inclusive positions in docs/formats.md.
FIELDS: tuple[tuple[str, int, int], ...] = (
    ("CODIGO_MODULAR", 0, 7),
    ("UBIGEO", 7, 13),
    ("NIVEL", 13, 16),
    ("NU_DOC", 16, 24),
    ("NOMBRE_COMPLETO", 24, 84),
    ("FEC_NAC", 84, 92),
    ("SEXO", 92, 93),
)
LINE_LENGTH = 93


class QaliWarmaLoader(ProgramLoader):
    """`qaliwarma_YYYYMM.txt`: names as `NOMBRES PATERNO MATERNO`; many children lack a DNI.

    A line must be exactly 93 characters (trailing spaces beyond them are tolerated): a
    shorter or longer line has shifted fields, and guessing where they went would attach
    the wrong birth date or name to a child.
    """

    sector: ClassVar[str] = "qaliwarma"
    program: ClassVar[str] = "QALIWARMA"
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "cp1252"
    # DDMMYYYY turns up where YYYYMMDD is due; the two cannot be confused for 19xx/20xx years
    # (read as YYYYMMDD, such a text has month 19 or 20), so the fallback is safe.
    date_formats: ClassVar[tuple[str, ...]] = ("ymd_compact", "dmy_compact", "iso", "dmy")

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]:
        """Yield every data row of the file as a canonical row or a reject."""
        build = self.builder(dict(SEX_NUMERIC)).build
        reader = LineReader(stream, self.encoding)
        number = 0
        for text, problem in reader:
            number += 1
            row_number = str(number)
            if problem is not None:
                yield Reject(row_number, (problem,), text)
                continue
            if len(text) != LINE_LENGTH and not (
                len(text) > LINE_LENGTH and text[LINE_LENGTH:].isspace()
            ):
                code = shape_problem(reader, text, len(text) < LINE_LENGTH)
                if code == "wrong_field_count":
                    code = "wrong_line_length"
                yield Reject(row_number, (code,), text[:1000])
                continue
            raw = {name: text[start:end] for name, start, end in FIELDS}
            yield build(
                row_number,
                raw,
                PersonFields(
                    doc=raw["NU_DOC"],
                    full_name=raw["NOMBRE_COMPLETO"],
                    layout=LAYOUT_NAMES_FIRST,
                    birth=raw["FEC_NAC"],
                    sex=raw["SEXO"],
                    ubigeo=raw["UBIGEO"],
                ),
                extra={
                    "codigo_modular": raw["CODIGO_MODULAR"].strip(),
                    "nivel": raw["NIVEL"].strip().upper(),
                },
            )
