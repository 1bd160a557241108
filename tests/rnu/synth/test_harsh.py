"""The harsher error model of a real padrón (issue 10): each kind is real and in truth/."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from rnu.synth import generate
from rnu.synth.rates import CASES, DEFECTS, KINDS
from rnu.synth.truth import CODES

PEOPLE = 12_000
SIS = "sis_202610.csv.gz"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("harsh")
    generate(path, people=PEOPLE, seed=5)
    return path


@pytest.fixture(scope="module")
def pgh(out: Path) -> dict[str, dict[str, str]]:
    with (out / "pgh_202610.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return {f"{r['CO_HOGAR']}-{r['NU_ORDEN']}": r for r in rows}


Truth = list[tuple[dict[str, str], list[str]]]


@pytest.fixture(scope="module")
def sis(out: Path) -> tuple[Truth, list[dict[str, str]]]:
    """SIS truth lines (with their defect codes) and the SIS rows, in file order."""
    with gzip.open(out / SIS, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (out / "truth" / "rows.csv").open(encoding="utf-8", newline="") as fh:
        truth = [t for t in csv.DictReader(fh) if t["file"] == SIS]
    return [(t, [d for d in t["defects"].split(";") if d]) for t in truth], rows


def _name(r: dict[str, str], pat: str, mat: str, nom: str) -> tuple[str, str, str]:
    return (r[pat], r[mat], r[nom].strip())


def test_every_harsh_kind_is_injected_and_described(out: Path) -> None:
    with (out / "truth" / "rows.csv").open(encoding="utf-8", newline="") as fh:
        seen = {d for t in csv.DictReader(fh) for d in t["defects"].split(";") if d}
    harsh = set(DEFECTS[DEFECTS.index("given_shortened") :]) | set(KINDS)
    assert harsh <= seen
    with (out / "truth" / "codes.csv").open(encoding="utf-8", newline="") as fh:
        described = {r["code"] for r in csv.DictReader(fh)}
    assert {*seen, *CASES} <= described == set(CODES)


def test_namesake_traps_are_real_namesakes_outside_the_pgh(sis, pgh) -> None:
    truth, rows = sis
    by_name: dict[tuple[str, str, str, str], list[dict[str, str]]] = defaultdict(list)
    for p in pgh.values():
        by_name[(p["UBIGEO"], p["AP_PATERNO"], p["AP_MATERNO"], p["NOMBRES"])].append(p)
    traps = 0
    for (t, defects), row in zip(truth, rows, strict=True):
        if "namesake_trap" not in defects or len(defects) > 1:
            continue
        traps += 1
        assert t["true_person_key"] == ""
        assert t["cases"] == "not_in_pgh"
        key = (row["UBIGEO_ADSCRIPCION"], row["APE_PAT"], row["APE_MAT"], row["NOMBRES"].strip())
        namesakes = by_name[key]
        assert namesakes, key
        born = date.fromisoformat(row["FEC_NAC"])
        for p in namesakes:
            assert abs((date.fromisoformat(p["FE_NACIMIENTO"]) - born).days) > 2 * 365
            assert p["NU_DOC"] != row["NUM_DOC"][:8]
    assert traps > 10


def test_kin_in_the_pgh_look_alike_and_are_not_duplicates(out: Path, pgh) -> None:
    with (out / "truth" / "pgh_kin.csv").open(encoding="utf-8", newline="") as fh:
        kin = list(csv.DictReader(fh))
    with (out / "truth" / "pgh_duplicates.csv").open(encoding="utf-8", newline="") as fh:
        dups = {frozenset((r["key_a"], r["key_b"])) for r in csv.DictReader(fh)}
    relations = {r["relation"] for r in kin}
    assert relations == {"twin", "father_son"}
    for r in kin:
        a, b = pgh[r["key_a"]], pgh[r["key_b"]]
        assert a["CO_HOGAR"] == b["CO_HOGAR"]
        assert frozenset((r["key_a"], r["key_b"])) not in dups
        if r["relation"] == "twin":
            assert a["FE_NACIMIENTO"] == b["FE_NACIMIENTO"]
            assert (a["AP_PATERNO"], a["AP_MATERNO"]) == (b["AP_PATERNO"], b["AP_MATERNO"])
            assert a["NOMBRES"] != b["NOMBRES"]
        else:
            assert (a["NOMBRES"], a["AP_PATERNO"]) == (b["NOMBRES"], b["AP_PATERNO"])
            assert a["FE_NACIMIENTO"] != b["FE_NACIMIENTO"]
    assert len(kin) > 0.005 * PEOPLE


def test_row_defects_do_what_they_say(sis, pgh) -> None:
    truth, rows = sis
    checked: dict[str, int] = defaultdict(int)
    for (t, defects), row in zip(truth, rows, strict=True):
        if len(defects) != 1 or not t["true_person_key"]:
            continue
        (defect,) = defects
        p = pgh[t["true_person_key"]]
        born = date.fromisoformat(p["FE_NACIMIENTO"])
        if defect == "mother_dni":
            mother = [m for m in pgh.values() if m["NU_DOC"] == row["NUM_DOC"][:8]]
            assert mother
            assert mother[0]["CO_HOGAR"] == p["CO_HOGAR"]
            assert mother[0]["SEXO"] == "F"
        elif defect == "neighbour_dni":
            other = [m for m in pgh.values() if m["NU_DOC"] == row["NUM_DOC"][:8]]
            assert other
            assert other[0]["CO_HOGAR"] != p["CO_HOGAR"]
        elif defect == "missing_birth_date":
            assert row["FEC_NAC"] == ""
        elif defect == "day_month_swapped":
            assert date.fromisoformat(row["FEC_NAC"]) == date(born.year, born.day, born.month)
        elif defect == "year_off_by_one":
            assert abs(date.fromisoformat(row["FEC_NAC"]).year - born.year) == 1
        elif defect == "placeholder_birth":
            assert row["FEC_NAC"] == f"{born.year}-01-01"
        elif defect == "married_name":
            assert row["APE_MAT"].startswith(("DE ", "VDA. DE "))
            assert p["SEXO"] == "F"
        elif defect == "given_surname_swapped":
            assert (row["NOMBRES"].strip(), row["APE_PAT"]) == (p["AP_PATERNO"], p["NOMBRES"])
        elif defect == "given_shortened":
            assert row["NOMBRES"].strip() in p["NOMBRES"].split()
            assert row["NOMBRES"].strip() != p["NOMBRES"]
        elif defect == "given_abbreviated":
            assert row["NOMBRES"].split()[0].endswith(".")
        elif defect == "quechua_variant":
            assert (row["APE_PAT"], row["APE_MAT"]) != (p["AP_PATERNO"], p["AP_MATERNO"])
        else:
            continue
        checked[defect] += 1
    assert set(checked) >= {"mother_dni", "married_name", "given_surname_swapped"}
