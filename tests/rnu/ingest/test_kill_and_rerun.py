"""A load killed at any moment leaves no partial batch; rerunning finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.rnu.ingest.builders import population, write_pgh, write_sis
from tests.rnu.ingest.test_pipeline import fetch, load

ROOT = Path(__file__).resolve().parents[3]


def start_load(url: str, path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RNU_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "load", "sis", str(path), "--period", "2026-10"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_sigkill_at_several_points_then_rerun(ingest_db: str, tmp_path: Path) -> None:
    people = population("K", 15_000)
    load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", people))
    lines = [p.sis_line() for p in people]
    sis = write_sis(tmp_path / "sis_202610.csv.gz", lines)

    started = time.perf_counter()
    full = start_load(ingest_db, sis)
    assert full.wait(timeout=300) == 0
    duration = time.perf_counter() - started
    committed = fetch(ingest_db, "SELECT id FROM load_batch WHERE status = 'committed' "
                      "AND source = 'SIS'")  # fmt: skip
    assert len(committed) == 1
    # Start over on an identical file with other bytes (a new sha256) so each attempt loads.
    for attempt, fraction in enumerate((0.15, 0.35, 0.55, 0.75, 0.9, 0.97)):
        variant = write_sis(tmp_path / f"v{attempt}.csv.gz", [*lines, f"# attempt {attempt}"])
        before = fetch(ingest_db, "SELECT count(*) FROM roll_row")[0][0]
        proc = start_load(ingest_db, variant)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        rows = fetch(
            ingest_db,
            "SELECT status, rows_read, rows_loaded, rows_quarantined FROM load_batch "
            "WHERE file_name = $1",
            variant.name,
        )
        after = fetch(ingest_db, "SELECT count(*) FROM roll_row")[0][0]
        if rows and rows[0]["status"] == "committed":  # killed after its commit: complete
            r = rows[0]
            assert r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"] == len(lines) + 1
            assert after - before == r["rows_loaded"]
        else:  # killed before: no trace of the batch at all
            assert rows == []
            assert after == before
        rerun = start_load(ingest_db, variant)
        assert rerun.wait(timeout=300) == 0
        done = fetch(ingest_db, "SELECT status, rows_read, rows_loaded, rows_quarantined "
                     "FROM load_batch WHERE file_name = $1", variant.name)  # fmt: skip
        assert [r["status"] for r in done] == ["committed"]
        assert done[0]["rows_read"] == done[0]["rows_loaded"] + done[0]["rows_quarantined"]
    # Each rerun replaced the period's roll: exactly one committed SIS batch remains.
    assert len(fetch(ingest_db, "SELECT 1 FROM load_batch WHERE source = 'SIS' "
                     "AND status = 'committed'")) == 1  # fmt: skip
