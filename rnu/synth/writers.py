"""One writer per sector file: lays out a roll row in the file's format, with its quirks.

Besides the recorded defects, some files carry format noise that every loader must normalise
and that truth/rows.csv does not list: stray spaces (Juntos, SIS) and mixed-case names (FISE,
Cuna Más).

Chunks are generated independently (possibly in worker processes), so each writer writes a
*part* (data lines only, row numbers local to the chunk); `generate` merges the parts in chunk
order, adds headers/BOM/title rows and shifts row numbers in truth/rows.csv.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import pickle
import random
from pathlib import Path
from typing import IO, Any, Literal

from rnu.synth.defects import DefectInjector, RollRow
from rnu.synth.population import Calendar
from rnu.synth.rates import Rates

NAME_DEFECTS = (
    "typo", "swapped_surnames", "missing_materno", "mojibake", "given_shortened",
    "given_abbreviated", "married_name", "given_surname_swapped", "quechua_variant",
    "ocr_confusion",
)  # fmt: skip
DOC_DEFECTS = (
    "lost_leading_zeros", "wrong_check_char", "transposed_digits", "missing_document",
    "mother_dni", "neighbour_dni",
)  # fmt: skip
BIRTH_DEFECTS = ("day_month_swapped", "year_off_by_one", "placeholder_birth", "missing_birth_date")
ALL_DEFECTS = (*NAME_DEFECTS, *DOC_DEFECTS, *BIRTH_DEFECTS, "other_date_format", "duplicate_row")


def without(*codes: str) -> tuple[str, ...]:
    """Every defect but `codes` (those that cannot happen in a file)."""
    return tuple(d for d in ALL_DEFECTS if d not in codes)


HEADERS: dict[str, list[str]] = {
    "pgh": "CO_HOGAR;NU_ORDEN;UBIGEO;AREA;TI_DOC;NU_DOC;AP_PATERNO;AP_MATERNO;NOMBRES;"
    "FE_NACIMIENTO;SEXO;PARENTESCO;CSE;FE_CSE_INICIO;FE_CSE_FIN".split(";"),
    "deaths": ["NU_DNI", "FE_DEFUNCION"],
    "JUNTOS": "PERIODO|UBIGEO|COD_HOGAR|DNI_TITULAR|APELLIDOS_NOMBRES_TITULAR|"
    "FEC_NAC|MONTO|ESTADO".split("|"),
    "CONTIGO": "DNI,NOMBRES,APELLIDOS,FECHA_NACIMIENTO,UBIGEO,CERTIFICADO_CONADIS,GRADO".split(","),
    "FISE": "ID_VALE,DNI_BENEFICIARIO,NOMBRE_BENEFICIARIO,SUMINISTRO,UBIGEO,FECHA_CANJE".split(","),
    "SIS": "TIPO_DOC,NUM_DOC,APE_PAT,APE_MAT,NOMBRES,FEC_NAC,SEXO,UBIGEO_ADSCRIPCION,REGIMEN,"
    "FEC_AFILIACION".split(","),
    "PENSION65": [
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
    ],
    "BECA18": [
        "TIPO_DOC",
        "NRO_DOC",
        "APELLIDOS",
        "NOMBRES",
        "FECHA_NACIMIENTO",
        "SEXO",
        "UBIGEO_PROCEDENCIA",
        "INSTITUCION",
        "CARRERA",
    ],
}
# Beca 18 sheets and the text date format each one uses ("dmy" DD/MM/YYYY, "iso" YYYY-MM-DD).
BECA18_SHEETS = {
    "ORDINARIA": "dmy",
    "VRAEM": "iso",
    "HUALLAGA": "dmy",
    "REPARED": "iso",
    "EIB": "dmy",
}


def dmy(iso: str) -> str:
    """YYYY-MM-DD -> DD/MM/YYYY by slicing (no strftime per row); blank stays blank."""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" if iso else ""


def mdy(iso: str) -> str:
    """YYYY-MM-DD -> MM/DD/YYYY (Contigo's export bug)."""
    return f"{iso[5:7]}/{iso[8:10]}/{iso[:4]}" if iso else ""


def compact(iso: str) -> str:
    """YYYY-MM-DD -> YYYYMMDD."""
    return iso[:4] + iso[5:7] + iso[8:10]


class TruthPart:
    """Truth lines of one chunk, with chunk-local row numbers (shifted at merge)."""

    def __init__(self, path: Path) -> None:
        self.fh = path.open("w", encoding="utf-8", newline="")

    def add(
        self, file: str, sheet: str, n: int, key: str, defects: list[str], cases: list[str]
    ) -> None:
        """One program row's truth."""
        self.fh.write(f"{file}\t{sheet}\t{n}\t{key}\t{';'.join(defects)}\t{';'.join(cases)}\n")

    def close(self) -> None:
        """Flush the part."""
        self.fh.close()


class RollWriter:
    """Common emit logic: defects, duplicate rows, broken lines and truth."""

    code = ""
    encoding = "utf-8"
    defects: tuple[str, ...] = ALL_DEFECTS
    text = True
    stray_spaces = 0.0
    mixed_case = 0.0

    def __init__(
        self,
        file_name: str,
        part_dir: Path,
        truth: TruthPart,
        rates: Rates,
        rng: random.Random,
        cal: Calendar,
    ) -> None:
        self.file_name = file_name
        self.truth = truth
        self.rng = rng
        self.cal = cal
        self.broken_rate = rates.broken_line if self.text else 0.0
        self.injector = DefectInjector(rates, self.defects, self.encoding, rng)
        self.counts: dict[str, int] = {}
        self.part_path = part_dir / f"{self.code}.part"
        self.fh: IO[str] | None = None
        if self.text:
            self.fh = self.open_part(self.part_path)

    def open_part(self, path: Path) -> IO[str]:
        """Text part in the file's encoding; strict so unencodable text fails loudly."""
        return path.open("w", encoding=self.encoding, newline="")

    def fields(self, row: RollRow) -> list[Any]:
        """The row laid out as this file's columns."""
        raise NotImplementedError

    def line(self, fields: list[Any]) -> str:
        """One text line (with newline) for the row's fields."""
        raise NotImplementedError

    def sheet(self, row: RollRow) -> str:
        """Excel sheet of a row ('' for text files)."""
        return ""

    def _next(self, sheet: str) -> int:
        n = self.counts.get(sheet, 0) + 1
        self.counts[sheet] = n
        return n

    def intrinsic(self, row: RollRow, found: list[str]) -> list[str]:
        """Defects the file format itself causes on this row (none by default)."""
        return []

    def emit(self, row: RollRow, key: str, cases: list[str], forced: tuple[str, ...] = ()) -> None:
        """Inject defects into the row, write it (maybe twice) and its truth."""
        found = [*forced, *self.injector.apply(row), *row.tags]
        found += self.intrinsic(row, found)
        if self.stray_spaces and self.rng.random() < self.stray_spaces:
            row.nombres = f" {row.nombres}  " if self.rng.random() < 0.5 else f"{row.nombres} "
        if self.mixed_case and self.rng.random() < self.mixed_case:
            row.nombres, row.paterno, row.materno = (
                row.nombres.title(),
                row.paterno.title(),
                row.materno.title(),
            )
        duplicate = "duplicate_row" in found
        if duplicate:
            found.remove("duplicate_row")
        fields = self.fields(row)
        sheet = self.sheet(row)
        copies = [found, [*found, "duplicate_row"]] if duplicate else [found]
        for defects in copies:
            self.store(sheet, fields)
            self.truth.add(self.file_name, sheet, self._next(sheet), key, defects, cases)
        if self.broken_rate and self.rng.random() < self.broken_rate:
            self.store_broken(fields)
            self.truth.add(self.file_name, "", self._next(""), "", ["broken_line"], [])

    def store(self, sheet: str, fields: list[Any]) -> None:
        """Write one data row to the part."""
        assert self.fh is not None
        self.fh.write(self.line(fields))

    def store_broken(self, fields: list[Any]) -> None:
        """A fully broken line: the row cut short mid-field, quotes removed so it cannot
        swallow the following lines."""
        assert self.fh is not None
        text = self.line(fields).rstrip("\r\n").replace('"', "")
        cut = self.rng.randrange(3, max(4, len(text) // 2))
        self.fh.write(text[:cut] + "\n")

    def close(self) -> None:
        """Finish the part."""
        if self.fh is not None:
            self.fh.close()

    def date(self, ordinal: int) -> str:
        """ISO text of an ordinal date ("" for 0: a missing birth date)."""
        return self.cal.text(ordinal) if ordinal else ""

    def doc(self, row: RollRow) -> str:
        """Document as written: number plus any appended check character."""
        return row.doc + row.check


class CsvWriter(RollWriter):
    """Delimited text written with csv.writer into a reusable buffer."""

    delimiter = ","
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._buf = io.StringIO()
        self._csv = csv.writer(
            self._buf, delimiter=self.delimiter, quoting=self.quoting, lineterminator="\n"
        )

    def line(self, fields: list[Any]) -> str:
        """Format through csv so quoting is right, then reuse the buffer."""
        buf = self._buf
        buf.seek(0)
        buf.truncate()
        self._csv.writerow(fields)
        return buf.getvalue()


class JuntosWriter(CsvWriter):
    """Latin-1, `|`, name as 'PATERNO MATERNO, NOMBRES', DD/MM/YYYY, decimal point amount."""

    code = "JUNTOS"
    encoding = "latin-1"
    delimiter = "|"
    stray_spaces = 0.02
    defects = without("mother_dni")  # titulars are adults

    def fields(self, row: RollRow) -> list[Any]:
        """PERIODO|UBIGEO|COD_HOGAR|DNI_TITULAR|APELLIDOS_NOMBRES_TITULAR|FEC_NAC|MONTO|ESTADO."""
        periodo, cod_hogar, monto, estado = row.extra
        surnames = f"{row.paterno} {row.materno}" if row.materno else row.paterno
        iso = self.date(row.birth)
        return [
            periodo,
            row.ubigeo,
            cod_hogar,
            self.doc(row),
            f"{surnames}, {row.nombres}",
            iso if row.alt_date else dmy(iso),
            monto,
            estado,
        ]


class QaliWarmaWriter(RollWriter):
    """cp1252 fixed width, no header, name as 'NOMBRES PATERNO MATERNO' cut at 60."""

    code = "QALIWARMA"
    encoding = "cp1252"
    # NU_DOC has 8 positions: no room for a 9th (check) character; schoolchildren.
    defects = without("wrong_check_char", "married_name")

    def fields(self, row: RollRow) -> list[Any]:
        """CODIGO_MODULAR, UBIGEO, NIVEL, NU_DOC, NOMBRE_COMPLETO, FEC_NAC, SEXO."""
        codigo, nivel = row.extra
        name = " ".join(x for x in (row.nombres, row.paterno, row.materno) if x)
        iso = self.date(row.birth)
        fec = f"{iso[8:10]}{iso[5:7]}{iso[:4]}" if row.alt_date else compact(iso)
        return [codigo, row.ubigeo, nivel, row.doc, name, fec, "1" if row.sex == "M" else "2"]

    def line(self, fields: list[Any]) -> str:
        """Positions 1-7, 8-13, 14-16, 17-24, 25-84, 85-92, 93."""
        codigo, ubigeo, nivel, doc, name, fec, sexo = fields
        return f"{codigo:<7.7}{ubigeo:<6.6}{nivel:<3.3}{doc:<8.8}{name:<60.60}{fec:<8.8}{sexo}\n"


class CunaMasWriter(RollWriter):
    """JSON lines; the child's two surnames in one string; CUI null when unknown."""

    code = "CUNAMAS"
    encoding = "utf-8"
    mixed_case = 0.1
    defects = without("married_name")  # children under 4

    def fields(self, row: RollRow) -> list[Any]:
        """periodo, ubigeo, servicio, nino{cui,nombres,apellidos,fecha_nacimiento}, cuidador."""
        periodo, servicio, cuidador = row.extra
        iso = self.date(row.birth)
        return [
            periodo,
            row.ubigeo,
            servicio,
            self.doc(row) or None,
            row.nombres,
            f"{row.paterno} {row.materno}" if row.materno else row.paterno,
            dmy(iso) if row.alt_date else iso,
            cuidador or None,
        ]

    def line(self, fields: list[Any]) -> str:
        """One JSON object per line, keys in a fixed order."""
        periodo, ubigeo, servicio, cui, nombres, apellidos, fecha, cuidador = fields
        obj = {
            "periodo": periodo,
            "ubigeo": ubigeo,
            "servicio": servicio,
            "nino": {
                "cui": cui,
                "nombres": nombres,
                "apellidos": apellidos,
                "fecha_nacimiento": fecha,
            },
            "cuidador_dni": cuidador,
        }
        return json.dumps(obj, ensure_ascii=False) + "\n"


class ContigoWriter(CsvWriter):
    """cp1252, every field quoted, MM/DD/YYYY dates, commas inside quoted fields."""

    code = "CONTIGO"
    encoding = "cp1252"
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_ALL

    def fields(self, row: RollRow) -> list[Any]:
        """DNI,NOMBRES,APELLIDOS,FECHA_NACIMIENTO,UBIGEO,CERTIFICADO_CONADIS,GRADO."""
        certificado, grado = row.extra
        iso = self.date(row.birth)
        return [
            self.doc(row),
            row.nombres,
            f"{row.paterno} {row.materno}" if row.materno else row.paterno,
            iso if row.alt_date else mdy(iso),
            row.ubigeo,
            certificado,
            grado,
        ]


class FiseWriter(CsvWriter):
    """UTF-8 with BOM (added at merge), name as 'NOMBRES PATERNO MATERNO'."""

    code = "FISE"
    encoding = "utf-8"
    mixed_case = 0.05
    defects = without("mother_dni", *BIRTH_DEFECTS)  # adult titulars, no birth date

    def fields(self, row: RollRow) -> list[Any]:
        """ID_VALE,DNI_BENEFICIARIO,NOMBRE_BENEFICIARIO,SUMINISTRO,UBIGEO,FECHA_CANJE."""
        id_vale, suministro, canje = row.extra
        name = " ".join(x for x in (row.nombres, row.paterno, row.materno) if x)
        iso = self.date(int(canje))
        return [
            id_vale,
            self.doc(row),
            name,
            suministro,
            row.ubigeo,
            dmy(iso) if row.alt_date else iso,
        ]


class SisWriter(CsvWriter):
    """gzip (mtime 0, so bytes are reproducible), UTF-8, `,`, ISO dates."""

    code = "SIS"
    encoding = "utf-8"
    stray_spaces = 0.01

    def open_part(self, path: Path) -> IO[str]:
        """Each chunk is its own gzip member; concatenated members are one valid gzip file."""
        raw = path.open("wb")
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
        self._raw = raw
        return io.TextIOWrapper(gz, encoding="utf-8", newline="")

    def close(self) -> None:
        """Close the gzip stream and the file under it."""
        super().close()
        self._raw.close()

    def fields(self, row: RollRow) -> list[Any]:
        """TIPO_DOC,NUM_DOC,APE_PAT,APE_MAT,NOMBRES,FEC_NAC,SEXO,UBIGEO,REGIMEN,FEC_AFILIACION."""
        regimen, afiliacion = row.extra
        iso = self.date(row.birth)
        return [
            row.ti_doc if row.doc else "0",
            self.doc(row),
            row.paterno,
            row.materno,
            row.nombres,
            dmy(iso) if row.alt_date else iso,
            row.sex,
            row.ubigeo,
            regimen,
            self.date(int(afiliacion)),
        ]


class ExcelRowsWriter(RollWriter):
    """Excel rolls: rows are pickled per chunk and written by one xlsxwriter at merge."""

    text = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[str, list[Any]]] = []

    def store(self, sheet: str, fields: list[Any]) -> None:
        """Keep the row for the merge (bounded by the chunk size)."""
        self.rows.append((sheet, fields))

    def close(self) -> None:
        """Pickle this chunk's rows."""
        with self.part_path.open("wb") as fh:
            pickle.dump(self.rows, fh, protocol=pickle.HIGHEST_PROTOCOL)


class Pension65Writer(ExcelRowsWriter):
    """DNI as a number (leading zeros lost on every zero-led DNI), birth date as an Excel date."""

    code = "PENSION65"
    # A numeric cell cannot carry a check character; people of 65 and over.
    defects = without("wrong_check_char", "mother_dni")

    def intrinsic(self, row: RollRow, found: list[str]) -> list[str]:
        """Excel drops the leading zeros of every zero-led DNI: record that on those rows."""
        if row.doc.startswith("0") and "lost_leading_zeros" not in found:
            return ["lost_leading_zeros"]
        return []

    def sheet(self, row: RollRow) -> str:
        """The roll has one sheet."""
        return "PADRON"

    def fields(self, row: RollRow) -> list[Any]:
        """DNI (int or None), names, birth (ordinal int, or text when alt), place names, pay."""
        dep, prov, dist, modalidad = row.extra
        birth: int | str = row.birth
        if row.alt_date or not row.birth:
            birth = dmy(self.date(row.birth))
        return [
            int(row.doc) if row.doc else None,
            row.paterno,
            row.materno,
            row.nombres,
            birth,
            dep,
            prov,
            dist,
            modalidad,
        ]


class Beca18Writer(ExcelRowsWriter):
    """One sheet per modality; text dates, DD/MM/YYYY or YYYY-MM-DD depending on the sheet."""

    code = "BECA18"

    def sheet(self, row: RollRow) -> str:
        """Modality = sheet."""
        return row.extra[0]

    def fields(self, row: RollRow) -> list[Any]:
        """TIPO_DOC,NRO_DOC,APELLIDOS,NOMBRES,FECHA_NACIMIENTO,SEXO,UBIGEO,INSTITUCION,CARRERA."""
        sheet, institucion, carrera = row.extra
        iso = self.date(row.birth)
        own = BECA18_SHEETS[sheet]
        fmt = ("iso" if own == "dmy" else "dmy") if row.alt_date else own
        tipo = {"1": "DNI", "3": "DNI", "2": "CE"}.get(row.ti_doc, "") if row.doc else ""
        return [
            tipo,
            self.doc(row),
            f"{row.paterno} {row.materno}" if row.materno else row.paterno,
            row.nombres,
            iso if fmt == "iso" else dmy(iso),
            row.sex,
            row.ubigeo,
            institucion,
            carrera,
        ]


WRITERS: dict[str, type[RollWriter]] = {
    w.code: w
    for w in (
        JuntosWriter,
        Pension65Writer,
        QaliWarmaWriter,
        CunaMasWriter,
        ContigoWriter,
        FiseWriter,
        Beca18Writer,
        SisWriter,
    )
}
