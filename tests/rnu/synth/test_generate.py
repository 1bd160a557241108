import csv
import gzip
import io
import json
from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from stdnum.pe import cui

from rnu.synth import Rates, generate
from rnu.synth import build as build_module
from rnu.synth.names import first_tokens
from rnu.synth.rates import CASES, DEFECTS, KINDS
from rnu.synth.writers import BECA18_SHEETS

PEOPLE = 4000
PERIOD_START = date(2026, 10, 1)
TEXT_FILES = {
    "juntos_202610.txt": "latin-1",
    "qaliwarma_202610.txt": "cp1252",
    "cunamas_202610.jsonl": "utf-8",
    "contigo_202610.csv": "cp1252",
    "fise_202610.csv": "utf-8-sig",
}
HEADER_LINES = {
    "juntos_202610.txt": 1,
    "qaliwarma_202610.txt": 0,
    "cunamas_202610.jsonl": 0,
    "contigo_202610.csv": 1,
    "fise_202610.csv": 1,
}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth")
    generate(path, people=PEOPLE, seed=7)
    return path


@pytest.fixture(scope="module")
def truth(out: Path) -> list[dict[str, str]]:
    with (out / "truth" / "rows.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def pgh(out: Path) -> dict[str, dict[str, str]]:
    with (out / "pgh_202610.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return {f"{r['CO_HOGAR']}-{r['NU_ORDEN']}": r for r in rows}


def truth_of(truth: list[dict[str, str]], file: str) -> list[dict[str, str]]:
    return [t for t in truth if t["file"] == file]


def text_lines(out: Path, name: str) -> list[str]:
    raw = (out / name).read_bytes()
    text = raw.decode(TEXT_FILES[name])
    return text.splitlines()[HEADER_LINES[name] :]


def sis_rows(out: Path) -> list[list[str]]:
    with gzip.open(out / "sis_202610.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


class TestDeterminism:
    def test_same_seed_same_bytes(self, out: Path, tmp_path: Path) -> None:
        generate(tmp_path, people=PEOPLE, seed=7)
        names = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
        assert names == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
        for name in names:
            assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name

    def test_other_seed_differs(self, out: Path, tmp_path: Path) -> None:
        generate(tmp_path, people=PEOPLE, seed=8)
        for name in ("pgh_202610.csv", "sis_202610.csv.gz", "truth/rows.csv"):
            assert (out / name).read_bytes() != (tmp_path / name).read_bytes()

    def test_chunked_in_processes(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Several chunks run in worker processes; row numbers continue across chunks."""
        monkeypatch.setattr(build_module, "CHUNK_PEOPLE", 1000)
        seen: list[int] = []
        summary = generate(tmp_path, people=3000, seed=3, progress=seen.append)
        assert summary.people == 3000
        assert seen == sorted(seen)
        assert seen[-1] == 3000
        with (tmp_path / "truth" / "rows.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        sis = [int(r["row_number"]) for r in rows if r["file"] == "sis_202610.csv.gz"]
        assert sis == list(range(1, len(sis) + 1))
        assert len(sis_rows(tmp_path)) - 1 == len(sis)
        pgh = (tmp_path / "pgh_202610.csv").read_text(encoding="utf-8").splitlines()
        assert len(pgh) - 1 == summary.files["pgh_202610.csv"]
        workbook = openpyxl.load_workbook(tmp_path / "pension65_202610.xlsx", read_only=True)
        numbers = [r[0] for r in workbook["PADRON"].iter_rows(min_row=5, values_only=True)]
        workbook.close()
        assert numbers == list(range(1, len(numbers) + 1))


class TestFormats:
    def test_pgh(self, out: Path, pgh: dict[str, dict[str, str]]) -> None:
        header = (out / "pgh_202610.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header == (
            "CO_HOGAR;NU_ORDEN;UBIGEO;AREA;TI_DOC;NU_DOC;AP_PATERNO;AP_MATERNO;NOMBRES;"
            "FE_NACIMIENTO;SEXO;PARENTESCO;CSE;FE_CSE_INICIO;FE_CSE_FIN"
        )
        rows = list(pgh.values())
        assert {r["AREA"] for r in rows} == {"U", "R"}
        assert {r["TI_DOC"] for r in rows} == {"0", "1", "2", "3"}
        assert {r["CSE"] for r in rows} == {"", "PE", "P", "NP"}
        for r in rows:
            date.fromisoformat(r["FE_NACIMIENTO"])
            assert len(r["UBIGEO"]) == 6
            assert (r["CSE"] == "") == (r["FE_CSE_INICIO"] == "") == (r["FE_CSE_FIN"] == "")

    def test_deaths(self, out: Path, pgh: dict[str, dict[str, str]]) -> None:
        with (out / "reniec_defunciones_202610.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        docs = {r["NU_DOC"] for r in pgh.values()}
        assert rows
        dates = [date.fromisoformat(r["FE_DEFUNCION"]) for r in rows]
        assert any(d < PERIOD_START for d in dates)
        assert any(d >= PERIOD_START for d in dates)
        assert all(r["NU_DNI"] in docs for r in rows)
        assert 0.003 < len(rows) / PEOPLE < 0.01

    def test_juntos(self, out: Path) -> None:
        raw = (out / "juntos_202610.txt").read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # Latin-1 with Ñ/accents is not valid UTF-8
        lines = raw.decode("latin-1").splitlines()
        assert lines[0] == (
            "PERIODO|UBIGEO|COD_HOGAR|DNI_TITULAR|APELLIDOS_NOMBRES_TITULAR|FEC_NAC|MONTO|ESTADO"
        )
        good = [line.split("|") for line in lines[1:] if line.count("|") == 7]
        assert len(good) >= 0.98 * (len(lines) - 1)
        assert all(f[0] == "202610" and ", " in f[4] for f in good)
        assert all(f[6] in ("200.00", "0.00") for f in good)
        datetime.strptime(good[0][5], "%d/%m/%Y")

    def test_qaliwarma_fixed_width(self, out: Path, truth: list[dict[str, str]]) -> None:
        lines = text_lines(out, "qaliwarma_202610.txt")
        rows = truth_of(truth, "qaliwarma_202610.txt")
        assert len(lines) == len(rows)
        for line, t in zip(lines, rows, strict=True):
            if "broken_line" in t["defects"]:
                assert len(line) < 93
                continue
            assert len(line) == 93
            assert line[13:16] in ("INI", "PRI", "SEC")
            assert line[92] in "12"
            if "missing_birth_date" in t["defects"]:
                assert line[84:92] == " " * 8
            elif "other_date_format" not in t["defects"]:
                datetime.strptime(line[84:92], "%Y%m%d")
        blank = sum(1 for line in lines if len(line) == 93 and line[16:24] == " " * 8)
        assert blank > 0.1 * len(lines)

    def test_cunamas(self, out: Path, truth: list[dict[str, str]]) -> None:
        lines = text_lines(out, "cunamas_202610.jsonl")
        rows = truth_of(truth, "cunamas_202610.jsonl")
        objs = [
            json.loads(line)
            for line, t in zip(lines, rows, strict=True)
            if "broken_line" not in t["defects"]
        ]
        assert objs
        assert set(objs[0]) == {"periodo", "ubigeo", "servicio", "nino", "cuidador_dni"}
        assert set(objs[0]["nino"]) == {"cui", "nombres", "apellidos", "fecha_nacimiento"}
        assert any(" " in o["nino"]["apellidos"] for o in objs)

    def test_contigo(self, out: Path) -> None:
        raw = (out / "contigo_202610.csv").read_bytes()
        text = raw.decode("cp1252")
        assert text.startswith('"DNI","NOMBRES","APELLIDOS","FECHA_NACIMIENTO","UBIGEO"')
        rows = [r for r in csv.reader(io.StringIO(text)) if len(r) == 7][1:]
        assert any("," in r[6] for r in rows)  # quoted field with a comma
        months = [int(r[3][:2]) for r in rows if len(r[3]) == 10 and r[3][2] == "/"]
        days = [int(r[3][3:5]) for r in rows if len(r[3]) == 10 and r[3][2] == "/"]
        assert max(months) <= 12
        assert all(1 <= d <= 31 for d in days)

    def test_fise_bom(self, out: Path) -> None:
        raw = (out / "fise_202610.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbfID_VALE,DNI_BENEFICIARIO,NOMBRE_BENEFICIARIO,")
        assert raw.count(b"\xef\xbb\xbf") == 1

    def test_sis_gzip(self, out: Path) -> None:
        raw = (out / "sis_202610.csv.gz").read_bytes()
        assert raw[:2] == b"\x1f\x8b"
        rows = sis_rows(out)
        assert rows[0] == [
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
        ]
        assert 0.3 < (len(rows) - 1) / PEOPLE < 0.5
        # ~3% of DNIs carry their (correct) check character
        nine = [r[1] for r in rows[1:] if len(r) == 10 and len(r[1]) == 9]
        assert nine
        assert sum(cui.is_valid(n) for n in nine) > 0.6 * len(nine)

    def test_pension65(self, out: Path, truth: list[dict[str, str]]) -> None:
        workbook = openpyxl.load_workbook(out / "pension65_202610.xlsx", read_only=True)
        assert workbook.sheetnames == ["PADRON"]
        rows = list(workbook["PADRON"].iter_rows(values_only=True))
        workbook.close()
        assert "PENSIÓN 65" in str(rows[0][0])
        assert rows[3][:6] == (
            "N°",
            "DNI",
            "APELLIDO PATERNO",
            "APELLIDO MATERNO",
            "NOMBRES",
            "FECHA NAC.",
        )
        data = rows[4:]
        assert len(data) == len(truth_of(truth, "pension65_202610.xlsx"))
        assert all(isinstance(r[1], int | None) for r in data)
        assert sum(isinstance(r[5], datetime) for r in data) > 0.9 * len(data)

    def test_beca18(self, out: Path, truth: list[dict[str, str]]) -> None:
        assert set(BECA18_SHEETS.values()) == {"dmy", "iso"}
        workbook = openpyxl.load_workbook(out / "beca18_2026.xlsx", read_only=True)
        assert workbook.sheetnames == list(BECA18_SHEETS)
        defects = {t["row_number"]: t["defects"] for t in truth_of(truth, "beca18_2026.xlsx")}
        total = 0
        for ws in workbook.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            assert rows[0][:2] == ("TIPO_DOC", "NRO_DOC")
            for n, r in enumerate(rows[1:], 1):
                total += 1
                fmt = "dmy" if "/" in r[4] else "iso"
                other = "other_date_format" in defects[f"{ws.title}!{n}"]
                assert (fmt == BECA18_SHEETS[ws.title]) != other
        workbook.close()
        assert total == len(defects) > 0


class TestTruth:
    def test_one_line_per_program_row(self, out: Path, truth: list[dict[str, str]]) -> None:
        for name in TEXT_FILES:
            rows = truth_of(truth, name)
            assert [int(t["row_number"]) for t in rows] == list(range(1, len(rows) + 1))
            assert len(text_lines(out, name)) == len(rows), name
        assert len(sis_rows(out)) - 1 == len(truth_of(truth, "sis_202610.csv.gz"))
        sheets = Counter(t["row_number"].split("!")[0] for t in truth_of(truth, "beca18_2026.xlsx"))
        assert set(sheets) <= {"ORDINARIA", "VRAEM", "HUALLAGA", "REPARED", "EIB"}

    def test_codes_known(self, truth: list[dict[str, str]]) -> None:
        defects = {d for t in truth for d in t["defects"].split(";") if d}
        cases = {c for t in truth for c in t["cases"].split(";") if c}
        assert defects <= {*DEFECTS, *KINDS, "broken_line"}
        assert cases <= set(CASES)

    def test_keys_exist(self, truth: list[dict[str, str]], pgh: dict[str, dict[str, str]]) -> None:
        for t in truth:
            if t["true_person_key"]:
                assert t["true_person_key"] in pgh
            else:
                assert t["cases"] == "not_in_pgh" or t["defects"] == "broken_line"

    def test_clean_sis_rows_match_pgh(
        self, out: Path, truth: list[dict[str, str]], pgh: dict[str, dict[str, str]]
    ) -> None:
        rows = sis_rows(out)[1:]
        checked = 0
        for row, t in zip(rows, truth_of(truth, "sis_202610.csv.gz"), strict=False):
            if t["defects"] or t["cases"]:
                continue
            person = pgh[t["true_person_key"]]
            doc = person["NU_DOC"]
            assert row[1] == doc or (person["TI_DOC"] != "2" and row[1][:8] == doc)
            assert row[0] == (person["TI_DOC"] if doc else "0")
            assert (row[2], row[3], row[4].strip()) == (
                person["AP_PATERNO"],
                person["AP_MATERNO"],
                person["NOMBRES"],
            )
            assert person["CSE"] in ("PE", "P")
            assert date.fromisoformat(person["FE_CSE_FIN"]) >= PERIOD_START
            checked += 1
        assert checked > 1000

    def test_clean_pension65_rows_qualify(
        self, out: Path, truth: list[dict[str, str]], pgh: dict[str, dict[str, str]]
    ) -> None:
        workbook = openpyxl.load_workbook(out / "pension65_202610.xlsx", read_only=True)
        data = list(workbook["PADRON"].iter_rows(min_row=5, values_only=True))
        workbook.close()
        for row, t in zip(data, truth_of(truth, "pension65_202610.xlsx"), strict=True):
            if not t["true_person_key"]:
                continue
            person = pgh[t["true_person_key"]]
            defects = t["defects"].split(";")
            if person["NU_DOC"].startswith("0"):
                assert "lost_leading_zeros" in defects
            if not {"transposed_digits", "missing_document"} & set(defects):
                assert row[1] == int(person["NU_DOC"])
            if not t["cases"]:
                born = date.fromisoformat(person["FE_NACIMIENTO"])
                assert (PERIOD_START.year - born.year) - (
                    (PERIOD_START.month, PERIOD_START.day) < (born.month, born.day)
                ) >= 65
                assert person["CSE"] == "PE"

    def test_pgh_duplicates(self, out: Path, pgh: dict[str, dict[str, str]]) -> None:
        with (out / "truth" / "pgh_duplicates.csv").open(encoding="utf-8") as fh:
            pairs = list(csv.DictReader(fh))
        assert 0.002 < len(pairs) / PEOPLE < 0.009
        for pair in pairs:
            a, b = pgh[pair["key_a"]], pgh[pair["key_b"]]
            assert a["CO_HOGAR"] != b["CO_HOGAR"]
            assert a["SEXO"] == b["SEXO"]

    def test_config(self, out: Path) -> None:
        config = json.loads((out / "truth" / "config.json").read_text(encoding="utf-8"))
        assert config["seed"] == 7
        assert config["people"] == PEOPLE
        assert config["rates"]["typo"] == Rates().typo


class TestPopulation:
    def test_documents_valid_and_unique(self, pgh: dict[str, dict[str, str]]) -> None:
        dnis = [r["NU_DOC"] for r in pgh.values() if r["TI_DOC"] in ("1", "3")]
        assert all(len(d) == 8 and d.isdigit() and cui.is_valid(d) for d in dnis)
        docs = [r["NU_DOC"] for r in pgh.values() if r["NU_DOC"]]
        assert len(docs) == len(set(docs))
        assert 0.07 < sum(d.startswith("0") for d in dnis) / len(dnis) < 0.13
        ces = [r["NU_DOC"] for r in pgh.values() if r["TI_DOC"] == "2"]
        assert ces
        assert all(len(c) == 9 for c in ces)

    def test_quispe_most_frequent(self, pgh: dict[str, dict[str, str]]) -> None:
        counts = Counter(r["AP_PATERNO"] for r in pgh.values())
        assert counts.most_common(1)[0][0] == "QUISPE"

    def test_sex_matches_given_name(self, pgh: dict[str, dict[str, str]]) -> None:
        male, female = first_tokens("M"), first_tokens("F")
        for r in pgh.values():
            first = r["NOMBRES"].split()[0]
            if r["SEXO"] == "M":
                assert first in male or first not in female  # re-registration typos
            else:
                assert first in female or first not in male

    def test_children_carry_parents_surnames(self, pgh: dict[str, dict[str, str]]) -> None:
        homes: dict[str, list[dict[str, str]]] = {}
        for r in pgh.values():
            homes.setdefault(r["CO_HOGAR"], []).append(r)
        checked = 0
        for members in homes.values():
            head = members[0]
            spouse = next((m for m in members if m["PARENTESCO"] == "2"), None)
            if head["SEXO"] != "M" or spouse is None:
                continue
            for child in (m for m in members if m["PARENTESCO"] == "3"):
                assert child["AP_PATERNO"] == head["AP_PATERNO"]
                assert child["AP_MATERNO"] == spouse["AP_PATERNO"]
                checked += 1
        assert checked > 500

    def test_age_pyramid(self, pgh: dict[str, dict[str, str]]) -> None:
        ages = [PERIOD_START.year - int(r["FE_NACIMIENTO"][:4]) for r in pgh.values()]
        young = sum(a < 15 for a in ages) / len(ages)
        old = sum(a >= 65 for a in ages) / len(ages)
        assert 0.18 < young < 0.35
        assert 0.05 < old < 0.15

    def test_rural_poorer(self, pgh: dict[str, dict[str, str]]) -> None:
        def poor_share(area: str) -> float:
            rows = [r for r in pgh.values() if r["AREA"] == area and r["CSE"]]
            return sum(r["CSE"] in ("PE", "P") for r in rows) / len(rows)

        assert poor_share("R") > poor_share("U") + 0.2


class TestRates:
    def test_injected_rates_close_to_configured(self, tmp_path: Path) -> None:
        """Raised rates so that 20k SIS rows give tight shares."""
        raised = replace(
            Rates(),
            **dict.fromkeys(DEFECTS, 0.03),
            **dict.fromkeys(CASES, 0.02),
        )
        generate(tmp_path, people=12_000, seed=11, rates=raised)
        with (tmp_path / "truth" / "rows.csv").open(encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if r["file"] == "sis_202610.csv.gz"]
        n = len(rows)
        defects = Counter(d for r in rows for d in r["defects"].split(";") if d)
        cases = Counter(c for r in rows for c in r["cases"].split(";") if c)
        for d in DEFECTS:
            share = defects[d] / n
            assert 0.02 < share < 0.04, (d, share)
        for c in ("cse_not_qualifying", "cse_expired", "cse_missing", "not_in_pgh"):
            share = cases[c] / n
            assert 0.015 < share < 0.03, (c, share)
        assert 0.015 < cases["duplicate_in_program"] / n < 0.03
        assert 0.012 < cases["deceased"] / n < 0.035
