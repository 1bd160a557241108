"""The chunked, pipelined program load gives the same batch as a one-chunk load would."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from rnu.ingest import program, stager, staging
from tests.rnu.ingest.builders import population, write_pgh, write_sis
from tests.rnu.ingest.test_pipeline import fetch, load


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "CHUNK_ROWS", 7)


def _lines(prefix: str, tmp_path: Path, ingest_db: str) -> list[str]:
    people = population(prefix, 12)
    load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
    lines = [p.sis_line() for p in people[:30]]
    # exact copies far apart (other chunks) and side by side; and a row without document
    return [*lines, lines[3], lines[29], lines[29], people[31].sis_line(dni=""), lines[0]]


def _summary(url: str, batch_id: int) -> dict[str, list[tuple[Any, ...]]]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in fetch(url, sql, batch_id)]

    return {
        "roll": rows(
            "SELECT row_number, outcome, p.pgh_key FROM roll_row r "
            "LEFT JOIN person p ON p.id = r.person_id WHERE batch_id = $1 ORDER BY r.id"
        ),
        "quarantine": rows(
            "SELECT row_number, reasons, raw->>'NUM_DOC' FROM quarantined_row "
            "WHERE batch_id = $1 ORDER BY row_number::int"
        ),
        "enrollment": rows(
            "SELECT p.pgh_key, r.row_number FROM enrollment e JOIN roll_row r "
            "ON r.id = e.roll_row_id JOIN person p ON p.id = e.person_id "
            "WHERE e.batch_id = $1 ORDER BY p.pgh_key"
        ),
    }


@pytest.mark.usefixtures("small_chunks")
class TestChunkedLoad:
    def test_copies_across_chunks_are_quarantined_once(self, ingest_db: str, tmp_path) -> None:
        lines = _lines("P", tmp_path, ingest_db)
        result = load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz", lines))
        assert result.rows_read == 35
        assert result.rows_quarantined == 4
        assert result.rows_loaded == 31
        summary = _summary(ingest_db, result.batch_id)
        quarantined = summary["quarantine"]
        assert [(q[0], q[1]) for q in quarantined] == [
            ("31", ["duplicate_row"]),
            ("32", ["duplicate_row"]),
            ("33", ["duplicate_row"]),
            ("35", ["duplicate_row"]),
        ]
        # the raw row as read is kept for the sector to fix
        assert all(q[2] for q in quarantined)
        roll = summary["roll"]
        assert [r[0] for r in roll] == [str(n) for n in range(1, 31)] + ["34"]
        assert len(summary["enrollment"]) == 31

    def test_hash_collisions_never_lose_a_row(
        self, ingest_db: str, tmp_path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        lines = _lines("Q", tmp_path, ingest_db)
        reference = load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz", lines))
        expected = _summary(ingest_db, reference.batch_id)
        # every row hashes alike: all but the first wait for the exact comparison
        monkeypatch.setattr(stager, "content_hash", lambda row, extra: 42)
        collided = load(ingest_db, write_sis(tmp_path / "sis_202611.csv.gz", lines), "sis")
        assert (collided.rows_loaded, collided.rows_quarantined) == (31, 4)
        got = _summary(ingest_db, collided.batch_id)
        assert got["quarantine"] == expected["quarantine"]
        assert sorted(got["roll"]) == sorted(expected["roll"])
        assert got["enrollment"] == expected["enrollment"]


class TestGilHandoffs:
    """While a batch loads the event loop gets the GIL within 1 ms; the setting is restored."""

    def test_interval_is_short_during_the_load_and_restored_after(
        self, ingest_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        people = population("S", 6)
        load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
        seen: list[float] = []
        real = program._Preparer.__call__

        def spy(self: program._Preparer) -> Any:
            seen.append(sys.getswitchinterval())
            return real(self)

        monkeypatch.setattr(program._Preparer, "__call__", spy)
        before = sys.getswitchinterval()
        lines = [p.sis_line() for p in people]
        load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz", lines))
        assert seen
        assert set(seen) == {min(program.SWITCH_INTERVAL, before)}
        assert sys.getswitchinterval() == before

    def test_restored_after_a_failed_load(
        self, ingest_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        people = population("T", 4)
        load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))

        def broken(self: program._Preparer) -> Any:
            raise RuntimeError("the worker thread failed")

        monkeypatch.setattr(program._Preparer, "__call__", broken)
        before = sys.getswitchinterval()
        with pytest.raises(RuntimeError):
            load(ingest_db, write_sis(tmp_path / "sis_202610.csv.gz", [people[0].sis_line()]))
        assert sys.getswitchinterval() == before
