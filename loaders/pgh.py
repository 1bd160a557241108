"""SISFOH's Padrón General de Hogares, the reference roll: UTF-8, `;` separated, ISO dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import BinaryIO, ClassVar

from loaders.base import PghRow, Reject
from loaders.fields import cached_display, document, parse_any_date, parse_ubigeo
from loaders.sector import SectorLoader
from loaders.text import read_delimited

COLUMNS = (
    "CO_HOGAR",
    "NU_ORDEN",
    "UBIGEO",
    "AREA",
    "TI_DOC",
    "NU_DOC",
    "AP_PATERNO",
    "AP_MATERNO",
    "NOMBRES",
    "FE_NACIMIENTO",
    "SEXO",
    "PARENTESCO",
    "CSE",
    "FE_CSE_INICIO",
    "FE_CSE_FIN",
)
AREAS = {"U": "U", "R": "R", "URBANO": "U", "RURAL": "R", "URBANA": "U"}
CSE_VALUES = frozenset({"PE", "P", "NP"})
SEXES = {"M": "M", "F": "F", "1": "M", "2": "F"}


class PghLoader(SectorLoader):
    """`pgh_YYYYMM.csv`: one row per person, keyed `CO_HOGAR-NU_ORDEN`.

    As the reference, a PGH row must carry its key, ubigeo, area, paterno and nombres; a
    missing birth date, materno, sex, relationship or CSE is allowed (None). A document
    problem is not a reject (as in program files); `PghRow` has no notes field, so only
    the cleaned number is kept (a wrong check character keeps its 8 digits).
    """

    sector: ClassVar[str] = "pgh"
    program: ClassVar[str | None] = None
    unit: ClassVar[str] = "person"
    encoding: ClassVar[str] = "utf-8"

    def rows(self, stream: BinaryIO) -> Iterator[PghRow | Reject]:
        """Yield every data row of the file as a PGH person or a reject."""
        for item in read_delimited(stream, encoding=self.encoding, delimiter=";", columns=COLUMNS):
            if isinstance(item, Reject):
                yield item
            else:
                yield self._row(*item)

    def _row(self, number: str, raw: dict[str, str]) -> PghRow | Reject:
        reasons: list[str] = []
        household = raw["CO_HOGAR"].strip()
        order = raw["NU_ORDEN"].strip()
        if not household or not order.isdigit() or int(order) < 1:
            reasons.append("invalid_household_key")
        ubigeo = parse_ubigeo(raw["UBIGEO"])
        if not ubigeo:
            reasons.append("invalid_ubigeo")
        area = AREAS.get(raw["AREA"].strip().upper())
        if area is None:
            reasons.append("invalid_area")
        doc = document(raw["NU_DOC"].strip(), raw["TI_DOC"].strip())
        paterno = raw["AP_PATERNO"].strip()
        materno = raw["AP_MATERNO"].strip()
        nombres = raw["NOMBRES"].strip()
        if not paterno or not nombres:
            reasons.append("missing_name")
        born = self._date(raw["FE_NACIMIENTO"], reasons, self.today)
        sex_text = raw["SEXO"].strip().upper()
        sex = SEXES.get(sex_text) if sex_text else None
        if sex_text and sex is None:
            reasons.append("invalid_sex")
        relationship_text = raw["PARENTESCO"].strip()
        if relationship_text and not relationship_text.isdigit():
            reasons.append("invalid_relationship")
        cse = raw["CSE"].strip().upper() or None
        if cse is not None and cse not in CSE_VALUES:
            reasons.append("invalid_cse")
        # A classification's window may end in the future; only its start may not.
        cse_from = self._date(raw["FE_CSE_INICIO"], reasons, self.today)
        cse_to = self._date(raw["FE_CSE_FIN"], reasons, date.max)
        if reasons:
            return Reject(number, tuple(dict.fromkeys(reasons)), raw)
        return PghRow(
            row_number=number,
            person_key=f"{household}-{order}",
            household_code=household,
            member_number=int(order),
            ubigeo=ubigeo or "",
            area=area or "",
            doc_type=doc.doc_type,
            doc_number=doc.number,
            nombres=cached_display(nombres),
            apellido_paterno=cached_display(paterno),
            apellido_materno=cached_display(materno) if materno else None,
            birth_date=born,
            sex=sex,
            relationship=int(relationship_text) if relationship_text else None,
            cse=cse,
            cse_from=cse_from,
            cse_to=cse_to,
        )

    def _date(self, value: str, reasons: list[str], today: date) -> date | None:
        found = parse_any_date(value, self.date_formats, today)
        if isinstance(found, str):
            reasons.append(found)
            return None
        return found
