"""Each sector's sample file, with every quirk docs/formats.md promises, parsed to exact values."""

from __future__ import annotations

from datetime import date

from loaders.base import CanonicalRow, DeathRow, PghRow, Reject
from loaders.contigo import ContigoLoader
from loaders.cunamas import CunaMasLoader
from loaders.deaths import DeathsLoader
from loaders.fise import FiseLoader
from loaders.juntos import JuntosLoader
from loaders.pgh import PghLoader
from loaders.qaliwarma import QaliWarmaLoader
from loaders.sis import SisLoader
from loaders.sis import _general as sis_general
from tests.loaders.conftest import FIXTURES, TODAY, by_number, read_all


def rejects(rows: list[object]) -> dict[str, tuple[str, ...]]:
    return {r.row_number: r.reasons for r in rows if isinstance(r, Reject)}


class TestJuntos:
    rows = read_all(
        JuntosLoader(period="2026-10", today=TODAY), FIXTURES / "juntos/juntos_202610.txt"
    )

    def test_every_data_row_is_numbered_once(self):
        # 12 non-blank lines after the header; one is a repeated header, one is blank.
        assert [r.row_number for r in self.rows] == [str(n) for n in range(1, 11)]

    def test_clean_row(self):
        row = by_number(self.rows)["1"]
        assert row == CanonicalRow(
            row_number="1",
            period="2026-10",
            doc_type="DNI",
            doc_number="12345678",
            nombres="MARÍA JOSÉ",
            apellido_paterno="DE LA CRUZ",
            apellido_materno="MUÑOZ",
            full_name="DE LA CRUZ MUÑOZ, MARÍA JOSÉ",
            birth_date=date(1975, 12, 31),
            ubigeo="080101",
            household_code="H0001",
            extra={"monto": "200.00", "estado": "ACTIVO"},
            raw=row.raw,
        )
        assert row.raw["APELLIDOS_NOMBRES_TITULAR"] == "DE LA CRUZ MUÑOZ, MARÍA JOSÉ"

    def test_stray_spaces_mixed_case_lost_zero_other_date_format(self):
        row = by_number(self.rows)["2"]
        assert (row.doc_number, row.doc_notes) == ("01234567", ("leading_zeros_restored",))
        assert (row.nombres, row.apellido_paterno, row.apellido_materno) == (
            "rosa",
            "quispe",
            "mamani",
        )
        assert (row.birth_date, row.ubigeo, row.extra["monto"]) == (
            date(1980, 5, 4),
            "080101",
            "100.00",
        )

    def test_month_first_date_only_when_day_first_is_impossible(self):
        assert by_number(self.rows)["3"].birth_date == date(1960, 12, 25)

    def test_missing_document_is_a_note_not_a_reject(self):
        row = by_number(self.rows)["4"]
        assert (row.doc_type, row.doc_number, row.doc_notes) == (None, None, ("missing_document",))

    def test_formula_looking_name_is_kept_as_data(self):
        row = by_number(self.rows)["8"]
        assert isinstance(row, CanonicalRow)
        assert row.full_name == '=HYPERLINK("http://x"), MALO'
        assert (row.apellido_paterno, row.apellido_materno, row.nombres) == (
            "HYPERLINK",
            "HTTP X",
            "MALO",
        )

    def test_mojibake_is_repaired_for_the_parts_and_kept_in_full_name(self):
        row = by_number(self.rows)["9"]
        assert row.apellido_materno == "MUÑOZ"
        assert row.full_name == "QUISPE MUÃ‘OZ, JUAN"

    def test_rejects(self):
        assert rejects(self.rows) == {
            "5": ("period_mismatch",),
            "6": ("invalid_amount", "impossible_date"),
            "7": ("wrong_field_count",),
            "10": ("truncated_line",),
        }


class TestPgh:
    rows = read_all(PghLoader(today=TODAY), FIXTURES / "pgh/pgh_202610.csv")

    def test_person_rows(self):
        first = by_number(self.rows)["1"]
        assert first == PghRow(
            row_number="1",
            person_key="100001-1",
            household_code="100001",
            member_number=1,
            ubigeo="150101",
            area="U",
            doc_type="DNI",
            doc_number="01234567",
            nombres="Juan Carlos",
            apellido_paterno="Quispe",
            apellido_materno="Mamani",
            birth_date=date(1980, 1, 2),
            sex="M",
            relationship=1,
            cse="PE",
            cse_from=date(2024, 1, 1),
            cse_to=date(2027, 12, 31),
        )

    def test_doc_types_and_blank_cse(self):
        rows = by_number(self.rows)
        assert (rows["2"].doc_type, rows["2"].apellido_materno) == ("CUI", None)
        assert (rows["3"].doc_type, rows["3"].doc_number, rows["3"].cse) == (None, None, None)
        assert (rows["3"].cse_from, rows["3"].cse_to) == (None, None)
        assert (rows["4"].doc_type, rows["4"].doc_number) == ("CE", "000123456")
        # A valid check character is verified and dropped.
        assert rows["6"].doc_number == "12345678"

    def test_every_problem_of_a_row_is_reported(self):
        assert rejects(self.rows) == {
            "5": (
                "invalid_household_key",
                "invalid_area",
                "missing_name",
                "future_date",
                "invalid_sex",
                "invalid_relationship",
                "invalid_cse",
            )
        }


class TestDeaths:
    rows = read_all(DeathsLoader(today=TODAY), FIXTURES / "deaths/reniec_defunciones_202610.csv")

    def test_rows(self):
        assert self.rows[:2] == [
            DeathRow("1", "01234567", date(2026, 10, 5)),
            DeathRow("2", "01234567", date(2026, 10, 6)),
        ]
        assert rejects(self.rows) == {
            "3": ("dni_not_numeric",),
            "4": ("future_date",),
            "5": ("missing_date",),
            "6": ("wrong_field_count",),
        }


class TestQaliWarma:
    rows = read_all(
        QaliWarmaLoader(period="2026-10", today=TODAY),
        FIXTURES / "qaliwarma/qaliwarma_202610.txt",
    )

    def test_child_without_document_names_first(self):
        row = by_number(self.rows)["1"]
        assert (row.doc_type, row.doc_notes) == (None, ("missing_document",))
        assert (row.nombres, row.apellido_paterno, row.apellido_materno) == (
            "ROSA ELENA",
            "QUISPE",
            "MAMANI",
        )
        assert (row.birth_date, row.sex, row.ubigeo) == (date(2021, 3, 15), "F", "050101")
        assert row.extra == {"codigo_modular": "0123456", "nivel": "INI"}
        assert row.raw["NOMBRE_COMPLETO"] == "ROSA ELENA QUISPE MAMANI".ljust(60)

    def test_accents_and_case_kept_for_display(self):
        row = by_number(self.rows)["2"]
        assert (row.nombres, row.apellido_paterno, row.apellido_materno, row.sex) == (
            "josé luis",
            "huamán",
            "peña",
            "M",
        )

    def test_rejects(self):
        # Only a row with nothing to identify the person is refused, with every failing field.
        assert rejects(self.rows) == {
            "4": ("not_identifiable", "missing_document", "missing_name"),
            "7": ("truncated_line",),
        }

    def test_unusable_fields_are_notes_and_none(self):
        rows = by_number(self.rows)
        # An impossible date (31/02) is a note; matching still gets the names.
        assert (rows["3"].birth_date, rows["3"].doc_notes) == (
            None,
            ("missing_document", "impossible_date"),
        )
        assert (rows["3"].nombres, rows["3"].apellido_paterno) == ("MIGUEL ÁNGEL", "DE LA CRUZ")
        assert (rows["5"].sex, rows["5"].doc_notes) == (None, ("missing_document", "invalid_sex"))
        # Given name and surname without document or birth date: usable, matching decides.
        assert (rows["6"].birth_date, rows["6"].apellido_paterno) == (None, "MUÑOZ")

    def test_day_first_compact_date_is_read(self, tmp_path):
        # An 8-digit DDMMYYYY where YYYYMMDD is due (the generator's other_date_format).
        line = (
            "0147708" + "021101" + "PRI" + "98384984"
            + "MATEO DE LA CRUZ CAMPOS".ljust(60) + "14062020" + "1"
        )  # fmt: skip
        path = tmp_path / "qaliwarma_202610.txt"
        path.write_bytes((line + "\r\n").encode("cp1252"))
        (row,) = read_all(QaliWarmaLoader(period="2026-10", today=TODAY), path)
        assert row.birth_date == date(2020, 6, 14)


class TestCunaMas:
    rows = read_all(
        CunaMasLoader(period="2026-10", today=TODAY), FIXTURES / "cunamas/cunamas_202610.jsonl"
    )

    def test_child_with_cui(self):
        row = by_number(self.rows)["1"]
        assert (row.doc_type, row.doc_number) == ("CUI", "81234567")
        assert (row.nombres, row.apellido_paterno, row.apellido_materno) == (
            "Thiago",
            "DE LA CRUZ",
            "QUISPE",
        )
        assert row.extra == {"servicio": "CUIDADO DIURNO", "cuidador_dni": "41234567"}
        assert row.raw["nino.cui"] == "81234567"

    def test_null_cui_and_numeric_caregiver_dni(self):
        row = by_number(self.rows)["2"]
        assert (row.doc_number, row.doc_notes) == (None, ("missing_document",))
        assert row.extra["cuidador_dni"] == "01234567"

    def test_rejects(self):
        assert rejects(self.rows) == {
            "4": ("invalid_json",),
            "5": ("invalid_json",),
            "6": ("not_identifiable", "missing_document", "missing_name", "missing_birth_date"),
        }
        # No CUI and no birth date, but a given name and a surname: loaded for matching.
        assert by_number(self.rows)["3"].apellido_paterno == "PEÑA"


class TestContigo:
    rows = read_all(
        ContigoLoader(period="2026-10", today=TODAY), FIXTURES / "contigo/contigo_202610.csv"
    )

    def test_month_first_dates_and_quoted_commas(self):
        rows = by_number(self.rows)
        assert rows["1"].birth_date == date(1950, 3, 4)
        assert (rows["2"].nombres, rows["2"].apellido_paterno) == ("JOSÉ, ANTONIO", "DEL ÁGUILA")
        assert rows["2"].birth_date == date(1960, 12, 31)
        assert rows["2"].extra == {"certificado": "C-002", "grado": "SEVERO"}
        # Day-first only as a fallback when month-first is impossible.
        assert rows["3"].birth_date == date(1960, 12, 31)
        assert rejects(self.rows) == {}
        assert by_number(self.rows)["4"].doc_notes == ("impossible_date",)


class TestFise:
    rows = read_all(FiseLoader(period="2026-10", today=TODAY), FIXTURES / "fise/fise_202610.csv")

    def test_bom_names_first_and_no_birth_date(self):
        rows = by_number(self.rows)
        assert rows["1"].raw["ID_VALE"] == "V0001"  # the BOM is not part of the first column
        assert (rows["1"].nombres, rows["1"].apellido_paterno, rows["1"].apellido_materno) == (
            "ROSA ELENA",
            "QUISPE",
            "MAMANI",
        )
        assert (rows["1"].household_code, rows["1"].extra["fecha_canje"]) == ("S-100", "2026-10-03")
        # No birth-date column: a row without document is still loaded.
        assert (rows["2"].doc_notes, rows["2"].apellido_materno) == (("missing_document",), None)
        # A document identifies the person even when the name cannot be split or the
        # ubigeo is invalid: both are notes, the fields None.
        assert rejects(self.rows) == {}
        assert (rows["3"].doc_notes, rows["3"].nombres) == (("name_unparseable",), None)
        assert (rows["4"].doc_notes, rows["4"].ubigeo) == (("invalid_ubigeo",), None)


class TestSis:
    rows = read_all(SisLoader(period="2026-10", today=TODAY), FIXTURES / "sis/sis_202610.csv.gz")

    def test_rows(self):
        rows = by_number(self.rows)
        assert rows["1"].full_name == "QUISPE MAMANI, JUAN CARLOS"
        assert (rows["2"].apellido_paterno, rows["2"].doc_notes) == (
            "quispe",
            ("leading_zeros_restored",),
        )
        assert (rows["3"].birth_date, rows["3"].apellido_materno) == (date(1990, 3, 2), None)
        assert rows["3"].extra == {"regimen": "SUBSIDIADO", "fec_afiliacion": ""}
        assert rows["4"].apellido_paterno == "DE LA CRUZ, JR"  # a quoted comma
        assert rejects(self.rows) == {}
        assert (rows["5"].sex, rows["5"].doc_notes) == (None, ("invalid_sex",))

    def test_fast_path_equals_general_path(self):
        """Rows taken by the fast path come out exactly as the general builder makes them."""
        fast = by_number(self.rows)["1"]
        builder = SisLoader(period="2026-10", today=TODAY).builder()
        raw = fast.raw
        general = sis_general(builder.build, "1", raw, dict(fast.extra), [])
        assert general == fast

    def test_every_document_type_comes_out_as_the_general_path_makes_it(self):
        """DNI and CUI codes, clean, not or blank: the fast path never changes what a row
        becomes."""
        header = "TIPO_DOC,NUM_DOC,APE_PAT,APE_MAT,NOMBRES,FEC_NAC,SEXO,UBIGEO_ADSCRIPCION,"
        lines = [
            f"{kind},{doc},QUISPE,MAMANI,ANA,2015-03-02,F,080101,SUBSIDIADO,2026-01-05"
            for kind in ("1", "01", "DNI", "3", "03", "CUI", "2", "", " 3")
            for doc in ("41234567", "1234567", "11111111", "")
        ]
        text = header + "REGIMEN,FEC_AFILIACION\n" + "\n".join(lines) + "\n"
        loader = SisLoader(period="2026-10", today=TODAY)
        rows = read_all(loader, text.encode())
        assert len(rows) == len(lines)
        build = loader.builder().build
        for row in rows:
            assert isinstance(row, CanonicalRow)
            assert sis_general(build, row.row_number, row.raw, dict(row.extra), []) == row
        kinds = {(r.raw["TIPO_DOC"], r.raw["NUM_DOC"]): r.doc_type for r in rows}
        assert kinds[("3", "41234567")] == kinds[("CUI", "41234567")] == "CUI"
        assert kinds[("01", "41234567")] == "DNI"

    def test_plain_csv_is_read_too(self):
        import gzip

        data = gzip.decompress((FIXTURES / "sis/sis_202610.csv.gz").read_bytes())
        assert read_all(SisLoader(period="2026-10", today=TODAY), data) == self.rows
