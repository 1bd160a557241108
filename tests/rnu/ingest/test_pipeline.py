"""Batches: every row accounted for, atomic, idempotent, snapshot replacement."""

from __future__ import annotations

import asyncio
import csv
from datetime import date
from pathlib import Path

import asyncpg

from rnu.embedded import plain_url
from rnu.ingest.links import export_links
from tests.rnu.ingest.builders import Member, population, valid_dni, write_pgh, write_sis
from usecases.loads import load_file, plan_directory, plan_file, write_quarantine


def run(coro):  # the pipeline opens its own connections: run it outside the test loop
    return asyncio.run(coro)


def fetch(url: str, sql: str, *args):
    async def go():
        conn = await asyncpg.connect(plain_url(url))
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return run(go())


def load(url: str, path: Path, sector: str | None = None, period: str | None = None):
    return run(load_file(url, plan_file(path, sector, period)))


class TestPgh:
    def test_loads_households_people_and_memberships(self, ingest_db: str, tmp_path) -> None:
        people = population("A", 4)
        broken = "A000099;1;150101;U;1;not-a-line"
        result = load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people, (broken,)))
        assert result.status == "committed"
        assert result.rows_read == 13
        assert result.rows_loaded == 12
        assert result.rows_quarantined == 1
        assert fetch(ingest_db, "SELECT count(*) FROM person WHERE in_pgh")[0][0] == 12
        assert fetch(ingest_db, "SELECT count(*) FROM household")[0][0] == 4
        rows = fetch(
            ingest_db,
            "SELECT h.pgh_code, m.member_number FROM household_member m "
            "JOIN household h ON h.id = m.household_id JOIN person p ON p.id = m.person_id "
            "WHERE p.pgh_key = $1",
            people[4].key,
        )
        assert [tuple(r) for r in rows] == [(people[4].household, 2)]


class TestProgramBatch:
    def test_every_row_is_loaded_or_quarantined(self, ingest_db: str, tmp_path) -> None:
        people = population("B", 10)
        load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
        lines = [p.sis_line() for p in people[:20]]
        lines.append(lines[0])  # an exact copy: reported, loaded once
        lines.append("1,123")  # a broken line
        lines.append(people[25].sis_line(dni=""))  # no document: fuzzy
        stranger = Member("Z1", 1, valid_dni(70_000_001), "ÑAUPARI", "YUPANQUI",
                          "TEODORO", date(1931, 9, 9), "M", "250101")  # fmt: skip
        lines.append(stranger.sis_line())  # not in the PGH
        result = load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz", lines))
        assert result.rows_read == 24
        assert result.rows_loaded + result.rows_quarantined == result.rows_read
        assert result.rows_quarantined == 2
        assert result.outcomes["linked"] == 21
        assert result.outcomes["unmatched"] == 1
        assert result.outcomes["enrolled"] == 22
        reasons = fetch(
            ingest_db,
            "SELECT reasons FROM quarantined_row WHERE batch_id = $1 ORDER BY row_number",
            result.batch_id,
        )
        assert sorted(tuple(r[0]) for r in reasons) == [("duplicate_row",), ("wrong_field_count",)]
        linked = fetch(
            ingest_db,
            "SELECT p.pgh_key, r.method FROM roll_row r JOIN person p ON p.id = r.person_id "
            "WHERE r.batch_id = $1 AND r.row_number = '23'",
            result.batch_id,
        )
        assert [tuple(r) for r in linked] == [(people[25].key, "fuzzy")]

    def test_same_file_twice_loads_once(self, ingest_db: str, tmp_path) -> None:
        people = population("C", 3)
        load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
        sis = write_sis(tmp_path / "sis_202610.csv.gz", [p.sis_line() for p in people])
        first = load(ingest_db, sis)
        again = load(ingest_db, sis)
        assert first.status == "committed"
        assert again.status == "already_loaded"
        assert again.batch_id == first.batch_id
        counts = fetch(ingest_db, "SELECT count(*) FROM load_batch WHERE source = 'SIS'")
        assert counts[0][0] == 1
        assert fetch(ingest_db, "SELECT count(*) FROM enrollment")[0][0] == 9

    def test_new_file_replaces_the_periods_roll(self, ingest_db: str, tmp_path) -> None:
        people = population("D", 3)
        load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
        first = load(ingest_db, write_sis(tmp_path / "a.csv.gz", [p.sis_line() for p in people]),
                     "sis", "2026-10")  # fmt: skip
        second = load(
            ingest_db,
            write_sis(tmp_path / "b.csv.gz", [p.sis_line() for p in people[:5]]),
            "sis",
            "2026-10",
        )
        statuses = fetch(ingest_db, "SELECT id, status, replaced_by_id FROM load_batch "
                         "WHERE source = 'SIS' ORDER BY id")  # fmt: skip
        assert [tuple(r) for r in statuses] == [
            (first.batch_id, "replaced", second.batch_id),
            (second.batch_id, "committed", None),
        ]
        enrolled = fetch(ingest_db, "SELECT count(*), min(batch_id) FROM enrollment "
                         "WHERE program_code = 'SIS' AND period = '2026-10'")  # fmt: skip
        assert tuple(enrolled[0]) == (5, second.batch_id)
        # the earlier batch's rows stay in the history
        history = fetch(ingest_db, "SELECT count(*) FROM roll_row WHERE batch_id = $1",
                        first.batch_id)  # fmt: skip
        assert history[0][0] == 9

    def test_quarantine_csv_defuses_formulas(self, ingest_db: str, tmp_path) -> None:
        people = population("E", 1)
        load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
        # Nothing to identify the person (no document, no surname, an impossible date):
        # quarantined, and the formula in the name must not run in the sector's spreadsheet.
        evil = people[0].sis_line(
            dni="", NOMBRES='=HYPERLINK("http://x")', APE_PAT="", APE_MAT="", FEC_NAC="31/02/1990"
        )
        result = load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz", [evil]))
        assert result.rows_quarantined == 1
        out = tmp_path / "q.csv"
        assert run(write_quarantine(ingest_db, result.batch_id, out)) == 1
        with out.open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        assert rows[0]["NOMBRES"].startswith("'=")
        assert rows[0]["motivos"]
        assert rows[0]["detalle"]  # a Spanish message for the sector, not the bare code
        assert rows[0]["detalle"] != rows[0]["motivos"]


class TestLinksExport:
    def test_lists_loaded_and_quarantined_rows(self, ingest_db: str, tmp_path) -> None:
        people = population("F", 2)
        load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
        load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz",
                                  [people[0].sis_line(), "garbage"]))  # fmt: skip
        out = tmp_path / "links.csv"
        assert run(export_links(ingest_db, out)) == 2
        with out.open(encoding="utf-8") as fh:
            rows = sorted(csv.DictReader(fh), key=lambda r: r["row_number"])
        assert rows[0]["outcome"] == "linked"
        assert rows[0]["person_key"] == people[0].key
        assert rows[0]["method"] == "exact_document"
        assert rows[1]["outcome"] == "quarantined"
        assert list(rows[0]) == ["file", "row_number", "outcome", "person_key", "method", "weight"]


def test_plan_directory_orders_pgh_and_deaths_first(tmp_path) -> None:
    for name in ("sis_202610.csv.gz", "reniec_defunciones_202610.csv", "pgh_202610.csv",
                 "notes.txt"):  # fmt: skip
        (tmp_path / name).write_bytes(b"")
    assert [p.sector for p in plan_directory(tmp_path)] == ["pgh", "deaths", "sis"]
