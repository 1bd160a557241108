"""Linking two lists, deduplicating one with clusters, and `rnu match` on plain mappings."""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnu.matching.dedupe import connected_components
from rnu.matching.lists import link_lists, match_lists
from rnu.matching.records import PersonRecord
from tests.rnu.matching.conftest import BY_KEY


class TestLinkLists:
    def test_links_right_people(self, pgh: list[PersonRecord]) -> None:
        left = [replace(p, key=f"X{i}") for i, p in enumerate(pgh[:400])]
        left += [
            replace(BY_KEY["P-DATE"], key="L1", doc_number=None, doc_type=None),
            replace(BY_KEY["P-CRUZ"], key="L2"),
        ]
        pairs = list(link_lists(left, pgh))
        linked = {(p.left_id, p.right_id) for p in pairs if p.outcome == "linked"}
        assert {("L1", "P-DATE"), ("L2", "P-CRUZ")} <= linked

    def test_dedupe_reports_each_pair_once_with_a_cluster(self, pgh: list[PersonRecord]) -> None:
        people = pgh[:600]
        copy = replace(people[10], key="DUP", doc_type=None, doc_number=None)
        run = match_lists([*people, copy], None)
        linked = [(p.left_id, p.right_id) for p in run.pairs if p.outcome == "linked"]
        assert (people[10].key, "DUP") in linked or ("DUP", people[10].key) in linked
        assert all(p.left_id != p.right_id for p in run.pairs)
        assert run.clusters["DUP"] == run.clusters[people[10].key]
        assert run.clusters[people[11].key] == people[11].key

    def test_fits_its_own_model(self, pgh: list[PersonRecord]) -> None:
        left = [replace(p, key=f"L{i}") for i, p in enumerate(pgh[:1500])]
        pairs = list(link_lists(left, pgh[:3000]))
        linked = {p.left_id: p.right_id for p in pairs if p.outcome == "linked"}
        assert linked["L7"] == pgh[7].key
        assert len(linked) >= 1495


class TestClusters:
    def test_connected_components_over_chains(self) -> None:
        a = np.array([5, 1, 2, 7], dtype=np.int32)
        b = np.array([1, 2, 3, 8], dtype=np.int32)
        labels = connected_components(9, a, b).tolist()
        assert labels == [0, 1, 1, 1, 4, 1, 6, 7, 7]


MAPPING = """
[columns]
id = "codigo"
nombres = "nombres"
apellido_paterno = "paterno"
apellido_materno = "materno"
birth_date = "nacimiento"
place = "lugar"
[dates]
formats = ["iso"]
"""


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["codigo", "nombres", "paterno", "materno", "nacimiento", "lugar"])
        writer.writerows(rows)
    return path


def _rnu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "match", *args], capture_output=True, text=True, check=False
    )


class TestMatchCommand:
    def test_errors_are_one_line(self, tmp_path: Path) -> None:
        mapping = tmp_path / "m.toml"
        mapping.write_text("[file]\n", encoding="utf-8")
        left = _write(tmp_path / "a.csv", [["1", "ANA", "PUMA", "", "1990-01-01", "X"]])
        for args in (
            [str(left), "--map", str(mapping)],  # no [columns]
            [str(tmp_path / "nope.csv"), "--map", str(mapping)],
        ):
            done = _rnu(*args)
            assert done.returncode == 2, done.stderr
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1, done.stderr
            assert lines[0].startswith("error:"), done.stderr
            assert "Traceback" not in done.stderr

    def test_outputs_are_checked_before_matching(self, tmp_path: Path) -> None:
        """A missing folder, an input as output, two outputs in one file: one line each."""
        mapping = tmp_path / "m.toml"
        mapping.write_text(MAPPING, encoding="utf-8")
        left = _write(tmp_path / "a.csv", [["1", "ANA", "PUMA", "", "1990-01-01", "X"]])
        before = left.read_bytes()
        for extra, shown in (
            (["--out", str(tmp_path / "no" / "p.csv")], "does not exist"),
            (["--out", str(left)], "would overwrite an input"),
            (["--out", str(tmp_path / "p.csv"), "--rejects", str(mapping)], "overwrite an input"),
            (["--out", str(tmp_path / "p.csv"), "--clusters", str(tmp_path / "p.csv")], "same"),
            (["--out", str(tmp_path)], "is a folder"),
        ):
            done = _rnu(str(left), "--map", str(mapping), *extra)
            assert done.returncode == 2, done.stderr
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1, done.stderr
            assert shown in lines[0], done.stderr
        assert left.read_bytes() == before
        assert not (tmp_path / "p.csv").exists()
        empty = tmp_path / "empty.csv"
        empty.write_bytes(b"")
        done = _rnu(str(empty), "--map", str(mapping))
        assert done.returncode == 2, done.stderr
        assert "is empty" in done.stderr

    def test_errors_print_brackets_as_written(self, tmp_path: Path) -> None:
        """Users' column names and the messages' own "[names]" are text, not rich markup."""
        left = _write(tmp_path / "a.csv", [["1", "ANA", "PUMA", "", "1990-01-01", "X"]])
        closing = tmp_path / "closing.toml"  # "[/]" made rich raise: a traceback
        closing.write_text('[columns]\nid = "codigo"\nnombres = "[/]"\n', encoding="utf-8")
        layout = tmp_path / "layout.toml"  # the hint's "[names]" was swallowed as a style
        layout.write_text('[columns]\nid = "codigo"\nfull_name = "nombres"\n', encoding="utf-8")
        for mapping, shown in ((closing, "['[/]']"), (layout, "[names] layout")):
            done = _rnu(str(left), "--map", str(mapping))
            assert done.returncode == 2, done.stderr
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1, done.stderr
            assert lines[0].startswith("error:"), done.stderr
            assert shown in lines[0], done.stderr

    def test_dedupe_writes_pairs_clusters_and_rejects(self, tmp_path: Path) -> None:
        mapping = tmp_path / "m.toml"
        mapping.write_text(MAPPING, encoding="utf-8")
        given = (
            "ROSA JUAN LUIS CARMEN PEDRO ANA JOSE LUZ MARIO ELENA VICTOR NELLY HUGO "
            "RAUL SONIA EDWIN DELIA OMAR FLOR JULIO"
        ).split()
        surnames = (
            "QUISPE HUAMAN ROJAS FLORES CHAVEZ TORRES RAMOS VARGAS MAMANI CONDORI "
            "APAZA TICONA MAYTA CCOPA PUMA YUPANQUI SALAZAR MEDINA PALOMINO CHAMBI "
            "HUANCA VILCA CUSI AGUILAR LLANOS"
        ).split()
        rows = [
            [f"C{i}", given[i % 20], surnames[i % 25], surnames[(i // 25 + 3 * i) % 25],
             f"{1940 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}", f"PUEBLO {i % 5}"]
            for i in range(300)
        ]  # fmt: skip
        # forty people written twice (the second time without the place), for EM to learn from
        rows += [[f"R{i}", *rows[i][1:5], ""] for i in range(10, 50)]
        slip = rows[3][4][:-1] + str((int(rows[3][4][-1]) + 1) % 10)  # one wrong day digit
        rows.append(["D1", *rows[3][1:4], slip, ""])  # C3 again, a slip in the date, no place
        rows.append(["D2", *rows[5][1:4], "", ""])  # C5's names alone: review, not a link
        rows.append(["BAD", "", "", "", "1990-02-31", ""])  # nothing to match on
        left = _write(tmp_path / "a.csv", rows)
        out = tmp_path / "pares.csv"
        done = _rnu(str(left), "--map", str(mapping), "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert "thresholds: link at weight" in done.stderr
        assert "blocking recall" in done.stderr
        with (tmp_path / "pares_rejects.csv").open(encoding="utf-8") as fh:
            rejects = list(csv.DictReader(fh))
        assert [(r["id"], r["reasons"]) for r in rejects] == [("BAD", "no_name_and_no_document")]
        with (tmp_path / "pares_clusters.csv").open(encoding="utf-8") as fh:
            clusters = {r["id"]: r["cluster"] for r in csv.DictReader(fh)}
        assert clusters["D1"] == clusters["C3"]
        assert clusters["D2"] == "D2"
        with out.open(encoding="utf-8") as fh:
            d2 = [p for p in csv.DictReader(fh) if "D2" in (p["left_id"], p["right_id"])]
        # C5, and C265 (ANA YUPANQUI TORRES: the same names with the surnames swapped) alike
        assert {p["left_id"] for p in d2} == {"C5", "C265"}
        assert {p["outcome"] for p in d2} == {"review"}


class TestPghDuplicates:
    def test_twins_father_and_son_and_namesakes_are_not_duplicates(
        self, pgh: list[PersonRecord]
    ) -> None:
        from datetime import date

        from tests.rnu.matching.conftest import person

        base = [replace(p, key=f"B{i}") for i, p in enumerate(pgh[:1500])]
        # a real duplicate: registered again without a DNI and with a typo
        first = base[20]
        again = replace(first, key="AGAIN", doc_type=None, doc_number=None,
                        nombres=(first.nombres or "") + "S", doc_trusted=False)  # fmt: skip
        tricky = [
            person("TWIN1", "MARIA ELENA", "ZEGARRA", "PUMA", date(2001, 3, 3), dni="70000011",
                   sex="F"),
            person("TWIN2", "MARIA LUISA", "ZEGARRA", "PUMA", date(2001, 3, 3), dni="70000012",
                   sex="F"),
            person("FATHER", "PEDRO", "CCORIMANYA", "APAZA", date(1960, 1, 9), dni="07000004"),
            person("SON", "PEDRO", "CCORIMANYA", "APAZA", date(1990, 6, 1), dni="71000004"),
            person("NAME1", "JUAN", "QUISPE", "MAMANI", date(1980, 5, 5), dni="40500001"),
            person("NAME2", "JUAN", "QUISPE", "MAMANI", date(1995, 8, 2), dni="47700002"),
        ]  # fmt: skip
        run = match_lists([*base, again, *tricky], None)
        linked = {frozenset((p.left_id, p.right_id)) for p in run.pairs if p.outcome == "linked"}
        assert frozenset((first.key, "AGAIN")) in linked
        for a, b in (("TWIN1", "TWIN2"), ("FATHER", "SON"), ("NAME1", "NAME2")):
            assert frozenset((a, b)) not in linked, (a, b)
            assert run.clusters[a] != run.clusters[b]

    def test_in_a_registry_two_valid_dnis_or_two_maternos_are_two_people(
        self, pgh: list[PersonRecord]
    ) -> None:
        """The PGH's documents come from RENIEC: a re-registration never carries another
        valid DNI, and its mother's surname is not mistyped into a different one."""
        from datetime import date

        from tests.rnu.matching.conftest import person

        base = [replace(p, key=f"B{i}") for i, p in enumerate(pgh[:1500])]
        first = base[30]
        again = replace(first, key="AGAIN", doc_type=None, doc_number=None, doc_trusted=False)
        tricky = [  # same names and birth date, each with their own RENIEC DNI
            person("DOC1", "ROSA", "HUAMAN", "QUISPE", date(1985, 3, 1), dni="41234561", sex="F"),
            person("DOC2", "ROSA", "HUAMAN", "QUISPE", date(1985, 3, 1), dni="42345672", sex="F"),
            # no DNI on either; the maternos differ outright
            person("MAT1", "ELSA", "CONDORI", "TICONA", date(1979, 7, 7), sex="F"),
            person("MAT2", "ELSA", "CONDORI", "MAMANI", date(1979, 7, 7), sex="F"),
        ]
        registry = match_lists([*base, again, *tricky], None, documents_identify=True)
        linked = {
            frozenset((p.left_id, p.right_id)) for p in registry.pairs if p.outcome == "linked"
        }
        assert frozenset((first.key, "AGAIN")) in linked
        assert frozenset(("DOC1", "DOC2")) not in linked
        assert frozenset(("MAT1", "MAT2")) not in linked
        assert registry.clusters["DOC1"] != registry.clusters["DOC2"]
        # a sector's roll is not a registry: there the same pair is left to the model
        roll = match_lists([*base, again, *tricky], None)
        roll_linked = {
            frozenset((p.left_id, p.right_id)) for p in roll.pairs if p.outcome == "linked"
        }
        assert frozenset(("DOC1", "DOC2")) in roll_linked

    def test_members_of_one_household_are_never_one_person(self, pgh: list[PersonRecord]) -> None:
        """Twins listed in one interview, one with a DNI, one without and a shorter name."""
        from datetime import date

        from tests.rnu.matching.conftest import person

        base = [replace(p, key=f"B{i}") for i, p in enumerate(pgh[:1500])]
        twins = [
            person("TW1", "ANA BRENDA", "ZEVALLOS", "ACOSTA", date(2007, 8, 18), dni="50045423",
                   sex="F", ubigeo="120101"),
            person("TW2", "BRENDA", "ZEVALLOS", "ACOSTA", date(2007, 8, 18), sex="F",
                   ubigeo="120101"),
        ]  # fmt: skip
        pair = frozenset(("TW1", "TW2"))
        alone = match_lists([*base, *twins], None, documents_identify=True)
        assert pair in {frozenset((p.left_id, p.right_id)) for p in alone.pairs
                        if p.outcome == "linked"}  # fmt: skip
        households = {"TW1": 7, "TW2": 7}
        apart = match_lists([*base, *twins], None, documents_identify=True, apart=households)
        outcomes = {frozenset((p.left_id, p.right_id)): p.outcome for p in apart.pairs}
        assert outcomes[pair] == "review"
        assert apart.clusters["TW1"] != apart.clusters["TW2"]

    def test_a_registrys_households_do_not_teach_the_model_what_a_duplicate_is(self) -> None:
        """In a household registry relatives (one surname, one district) far outnumber the
        people registered twice: fitted on every pair, EM took "relatives" for "same person"
        (the prior hit its 0.5 cap and m said most true pairs have different birth dates).
        Pairs of one household are known to be two people and are left out of the fit."""
        from loaders.registry import LOADERS
        from rnu.ingest.rows import PghRow
        from rnu.synth import generate

        with tempfile.TemporaryDirectory() as tmp:
            country = Path(tmp)
            generate(country, people=4000, seed=3)
            with next(country.glob("pgh_*.csv")).open("rb") as fh:
                rows = [r for r in LOADERS["pgh"]().rows(fh) if isinstance(r, PghRow)]
            with (country / "truth" / "pgh_duplicates.csv").open(encoding="utf-8") as fh:
                truth = {frozenset((r["key_a"], r["key_b"])) for r in csv.DictReader(fh)}
        records = [
            PersonRecord(r.person_key, r.doc_type, r.doc_number, True, r.nombres,
                         r.apellido_paterno, r.apellido_materno, r.birth_date, r.sex, r.ubigeo)
            for r in rows
        ]  # fmt: skip
        codes = {c: i for i, c in enumerate(sorted({r.household_code for r in rows}))}
        apart = {r.person_key: codes[r.household_code] for r in rows}
        run = match_lists(records, None, documents_identify=True, apart=apart)
        m = run.model.m["birth_date"]
        assert m["exact"] > 0.5 > m["different"]
        assert run.model.prior < 0.1
        linked = {frozenset((p.left_id, p.right_id)) for p in run.pairs if p.outcome == "linked"}
        assert len(truth) >= 10
        assert len(linked & truth) >= 0.9 * len(truth)
        assert len(linked - truth) <= 1

    def test_in_a_registry_a_date_within_a_month_corroborates(
        self, pgh: list[PersonRecord]
    ) -> None:
        """Two dates a month and a day apart are no sibling's (siblings are born months
        apart, twins on one day): with every name agreeing they are one person re-registered."""
        from datetime import date

        from tests.rnu.matching.conftest import person

        base = [replace(p, key=f"B{i}") for i, p in enumerate(pgh[:1500])]
        tricky = [
            person("MONTH1", "VICTOR HUGO", "CAMPOS", "HUARCAYA", date(2018, 10, 28)),
            person("MONTH2", "VICTOR HUGO", "CAMPOS", "HUARCAYA", date(2018, 11, 27),
                   ubigeo="050109"),
        ]  # fmt: skip
        run = match_lists([*base, *tricky], None, documents_identify=True)
        outcome = {frozenset((p.left_id, p.right_id)): p.outcome for p in run.pairs}
        assert outcome.get(frozenset(("MONTH1", "MONTH2"))) == "linked"

    def test_in_a_registry_a_loosely_alike_materno_is_another_mothers(
        self, pgh: list[PersonRecord]
    ) -> None:
        """A materno two letters or more away (HUAYTA / HUAMAN) is not a registry's slip."""
        from datetime import date

        from tests.rnu.matching.conftest import person

        base = [replace(p, key=f"B{i}") for i, p in enumerate(pgh[:1500])]
        tricky = [
            person("LOOSE1", "JOSE ANTONIO", "CHAVEZ", "HUAYTA", date(2014, 5, 8)),
            person("LOOSE2", "JOSE ANTONIO", "CHAVEZ", "HUAMAN", date(2014, 5, 8)),
        ]
        run = match_lists([*base, *tricky], None, documents_identify=True)
        outcome = {frozenset((p.left_id, p.right_id)): p.outcome for p in run.pairs}
        assert outcome.get(frozenset(("LOOSE1", "LOOSE2"))) == "review"

    def test_in_a_registry_a_married_materno_is_no_other_mother(
        self, pgh: list[PersonRecord]
    ) -> None:
        """Registered again after marrying: "DE MORALES" in the materno field is her
        husband's surname, not another mother's (a different materno is, in a registry)."""
        from datetime import date

        from tests.rnu.matching.conftest import person

        base = [replace(p, key=f"B{i}") for i, p in enumerate(pgh[:1500])]
        tricky = [
            person("WED1", "PAULINA", "PACHECO", "CARHUAMACA", date(1969, 11, 25), sex="F",
                   dni="06212929"),
            person("WED2", "PAULINA", "PACHECO", "DE CHAVEZ", date(1969, 11, 25), sex="F",
                   ubigeo="060101"),
        ]  # fmt: skip
        run = match_lists([*base, *tricky], None, documents_identify=True)
        outcome = {frozenset((p.left_id, p.right_id)): p.outcome for p in run.pairs}
        assert outcome.get(frozenset(("WED1", "WED2"))) == "linked"
