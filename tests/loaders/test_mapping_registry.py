"""The mapping-driven loader, the registry, and the reason messages."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pytest

from loaders.base import CanonicalRow
from loaders.errors import FileRejected
from loaders.mapping import MappingError, MappingLoader
from loaders.reasons import FILE_REASONS, REASONS, ROW_REASONS, message
from loaders.registry import LOADERS, detect
from tests.loaders.conftest import FIXTURES, TODAY, read_all

MAPPINGS = Path(__file__).parents[2] / "loaders" / "mappings"


class TestMappingLoader:
    def test_vaso_de_leche(self):
        loader = MappingLoader(
            MAPPINGS / "example_vaso_de_leche.toml", period="2026-10", today=TODAY
        )
        assert (loader.sector, loader.program, loader.unit) == (
            "vaso_de_leche",
            "VASO_DE_LECHE",
            "person",
        )
        rows = read_all(loader, FIXTURES / "vaso_de_leche/vaso_de_leche_202610.csv")
        first, second, third = rows
        assert first == CanonicalRow(
            row_number="1",
            period="2026-10",
            doc_type="DNI",
            doc_number="12345678",
            nombres="Rosa",
            apellido_paterno="Peña",
            apellido_materno="Núñez",
            full_name="Peña Núñez, Rosa",
            birth_date=date(2020, 8, 15),
            sex="F",
            ubigeo="150101",
            extra={"comite": "C-01", "tipo_beneficiario": "NIÑO"},
            raw=first.raw,
        )
        # No DNI and no birth date, but a given name and a surname: loaded for matching.
        assert isinstance(second, CanonicalRow)
        assert (second.apellido_paterno, second.nombres, second.birth_date) == (
            "QUISPE",
            "ANA",
            None,
        )
        assert isinstance(third, CanonicalRow)
        assert (third.doc_number, third.doc_notes, third.sex) == (
            "01234567",
            ("leading_zeros_restored",),
            "M",
        )

    def test_inpe_full_name(self):
        loader = MappingLoader(MAPPINGS / "example_inpe.toml", today=TODAY)
        first, second = read_all(loader, FIXTURES / "inpe/inpe_202610.csv")
        assert (first.apellido_paterno, first.apellido_materno, first.nombres) == (
            "QUISPE",
            "MAMANI",
            "JUAN CARLOS",
        )
        assert first.extra == {
            "establecimiento": "E.P. LURIGANCHO",
            "situacion_juridica": "PROCESADO",
        }
        # "SIN NOMBRE" without a comma: surnames first, so nombres "NOMBRE".
        assert (second.apellido_paterno, second.nombres, second.doc_notes) == (
            "SIN",
            "NOMBRE",
            ("missing_document",),
        )

    def test_mapped_column_missing_from_file(self):
        loader = MappingLoader(MAPPINGS / "example_inpe.toml", today=TODAY)
        with pytest.raises(FileRejected) as caught:
            read_all(loader, b"ESTABLECIMIENTO,DNI,APELLIDOS Y NOMBRES,FECHA_NAC\nx,1,A B,\n")
        assert caught.value.code == "unknown_columns"

    def test_fixed_width_and_jsonl(self):
        fixed = MappingLoader(
            {
                "program": {"code": "X", "unit": "household"},
                "file": {"format": "fixed", "encoding": "cp1252"},
                "columns": {"doc_number": "1-8", "full_name": [9, 28], "birth_date": "29-36",
                            "extra": {"codigo": "37-39"}},
                "names": {"layout": "NOMBRES PATERNO MATERNO"},
                "dates": {"formats": ["ymd_compact"]},
            },
            today=TODAY,
        )  # fmt: skip
        line = f"{'12345678'}{'ANA PEÑA ROJAS':<20}{'19900101'}ABC"
        (row,) = read_all(fixed, (line + "\n" + "short\n").encode("cp1252"))[:1]
        assert (row.nombres, row.apellido_paterno, row.birth_date, row.extra) == (
            "ANA",
            "PEÑA",
            date(1990, 1, 1),
            {"codigo": "ABC"},
        )
        jsonl = MappingLoader(
            {
                "program": {"code": "Y"},
                "file": {"format": "jsonl"},
                "columns": {"doc_number": "persona.dni", "nombres": "persona.nombres",
                            "apellidos": "persona.apellidos", "birth_date": "nac"},
            },
            today=TODAY,
        )  # fmt: skip
        record = {"persona": {"dni": 1234567, "nombres": "LUZ", "apellidos": "DEL ÁGUILA"}}
        rows = read_all(jsonl, (json.dumps(record) + "\n[]\n").encode())
        assert (rows[0].doc_number, rows[0].apellido_paterno, rows[0].birth_date) == (
            "01234567",
            "DEL ÁGUILA",
            None,
        )
        assert rows[1].reasons == ("invalid_json",)

    @pytest.mark.parametrize(
        ("mapping", "error"),
        [
            ({"program": {"code": "X"}, "file": {"format": "xml"}}, "file.format"),
            ({"program": {"code": "X"}, "columns": {"dni": "A"}}, "unknown canonical"),
            ({"program": {"code": "X"}, "columns": {"doc_number": "A"}}, "full_name"),
            ({"program": {"code": "X", "unit": "family"}}, "program.unit"),
        ],
    )
    def test_invalid_mappings(self, mapping, error):
        with pytest.raises(MappingError, match=error):
            MappingLoader(mapping)


class TestRegistry:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("pgh_202610.csv", ("pgh", "2026-10")),
            ("reniec_defunciones_202610.csv", ("deaths", "2026-10")),
            ("juntos_202610.txt", ("juntos", "2026-10")),
            ("pension65_202601.xlsx", ("pension65", "2026-01")),
            ("qaliwarma_202610.txt", ("qaliwarma", "2026-10")),
            ("cunamas_202610.jsonl", ("cunamas", "2026-10")),
            ("contigo_202610.csv", ("contigo", "2026-10")),
            ("fise_202610.csv", ("fise", "2026-10")),
            ("beca18_2026.xlsx", ("beca18", "2026")),
            ("/data/in/SIS_202610.CSV.GZ", ("sis", "2026-10")),
            ("sis_202610.csv", ("sis", "2026-10")),
            ("juntos_202613.txt", None),
            ("juntos_2026.txt", None),
            ("vaso_de_leche_202610.csv", None),
            ("notes.txt", None),
        ],
    )
    def test_detect(self, name, expected):
        assert detect(name) == expected

    def test_every_sector_has_a_loader_with_its_attributes(self):
        assert sorted(LOADERS) == sorted(
            ["pgh", "deaths", "juntos", "pension65", "qaliwarma", "cunamas", "contigo", "fise",
             "beca18", "sis"]
        )  # fmt: skip
        units = {name: cls.unit for name, cls in LOADERS.items()}
        assert {n for n, u in units.items() if u == "household"} == {"juntos", "fise"}
        assert LOADERS["pgh"].program is None
        assert LOADERS["sis"].program == "SIS"
        loader = LOADERS["juntos"](period="2026-10", today=TODAY)
        assert (loader.sector, loader.period, loader.encoding) == ("juntos", "2026-10", "latin-1")

    def test_every_fixture_loads_through_the_registry(self):
        for path in sorted(FIXTURES.rglob("*_2026*")):
            found = detect(path)
            if found is None:
                continue
            sector, period = found
            with path.open("rb") as stream:
                rows = list(LOADERS[sector](period=period, today=TODAY).rows(stream))
            assert rows, path


class TestReasons:
    def test_every_code_has_a_spanish_message(self):
        assert ROW_REASONS.isdisjoint(FILE_REASONS)
        assert set(REASONS) == ROW_REASONS | FILE_REASONS
        for code, text in REASONS.items():
            assert code == code.lower()
            assert " " not in code
            assert (text[0].isupper(), text[-1]) == (True, "."), code

    def test_message(self):
        assert message("invalid_ubigeo") == "El ubigeo no es válido: debe tener 6 dígitos."
        assert message("nope") == "La fila no es válida (nope). Comuníquese con el equipo del RNU."

    def test_document_and_date_error_codes_are_covered(self):
        from rnu.normalize.dates import DATE_ERROR_CODES
        from rnu.normalize.documents import ERROR_CODES

        assert ERROR_CODES <= ROW_REASONS
        assert DATE_ERROR_CODES <= ROW_REASONS


def test_gzip_peek_on_unseekable_stream():
    from loaders.text import maybe_gunzip

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer):
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    stream = maybe_gunzip(Pipe(gzip.compress(b"hola\n")))  # type: ignore[arg-type]
    assert stream.read() == b"hola\n"
