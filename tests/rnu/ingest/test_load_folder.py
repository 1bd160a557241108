"""`rnu load all DIR`: one bad file is reported and the others still load; a bad PGH stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.load import load_planned
from rnu.errors import InvalidInput
from tests.rnu.ingest.builders import population, write_pgh, write_sis
from tests.rnu.ingest.test_pipeline import fetch
from usecases.loads import plan_directory


def _committed(url: str) -> list[str]:
    rows = fetch(url, "SELECT file_name FROM load_batch WHERE status = 'committed' ORDER BY id")
    return [r[0] for r in rows]


def test_a_corrupt_roll_is_reported_and_the_next_ones_load(ingest_db: str, tmp_path: Path) -> None:
    people = population("F", 4)
    write_pgh(tmp_path / "pgh_202610.csv", people)
    (tmp_path / "pension65_202610.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    write_sis(tmp_path / "sis_202610.csv.gz", [p.sis_line() for p in people])
    with pytest.raises(InvalidInput, match="1 of 3 files failed to load; the others are loaded"):
        load_planned(ingest_db, plan_directory(tmp_path))
    # the SIS roll comes after the bad workbook: it used to be left unloaded
    assert _committed(ingest_db) == ["pgh_202610.csv", "sis_202610.csv.gz"]


def test_a_failed_pgh_stops_the_rolls(ingest_db: str, tmp_path: Path) -> None:
    people = population("G", 4)
    (tmp_path / "pgh_202610.csv").write_bytes(b"\xff\xfe\x00broken")  # UTF-16: refused whole
    write_sis(tmp_path / "sis_202610.csv.gz", [p.sis_line() for p in people])
    with pytest.raises(InvalidInput, match="1 of 2 files failed to load, 1 not tried"):
        load_planned(ingest_db, plan_directory(tmp_path))
    assert _committed(ingest_db) == []


def test_a_single_file_fails_with_its_own_error(ingest_db: str, tmp_path: Path) -> None:
    (tmp_path / "pension65_202610.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(InvalidInput, match="not a readable xlsx workbook"):
        load_planned(ingest_db, plan_directory(tmp_path))
