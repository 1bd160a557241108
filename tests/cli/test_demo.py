"""`rnu demo` checks the PGH, says what it found and how to go on; the worker runs beside it.

Issue 13, item 10. The demo runs as a subprocess against a database of its own on the
suite's server, with its output piped (not a terminal), as in a CI log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import drop_test_database, make_test_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_env(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    url = make_test_database(server_url, prefix="rnu_demo")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env.update(RNU_DATABASE_URL=url, RNU_DATA_DIR=str(tmp_path_factory.mktemp("demo")))
    yield env
    drop_test_database(server_url, url)


@pytest.mark.slow
def test_demo_reports_findings_and_the_analyst_login(demo_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--people", "300", "--no-serve"],
        capture_output=True,
        text=True,
        env=demo_env,
        cwd=ROOT,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "PGH duplicates:" in result.stderr
    assert "What the checks found (open flags)" in result.stdout
    assert "total" in result.stdout
    assert "rnu users add ana --role analyst --password-stdin" in result.stderr
    assert "/analista" in result.stderr
    # piped output keeps whole file names in the outcome table (no 80-column wrapping)
    assert "pension65_202610.xlsx" in result.stdout
    assert "reniec_defunciones_202610.csv" in result.stdout


@pytest.mark.slow
def test_the_background_worker_runs_until_the_demo_ends(demo_env: dict[str, str]) -> None:
    from cli import demo

    previous = dict(os.environ)
    os.environ.update(demo_env)
    try:
        with demo.background_worker() as worker:
            time.sleep(3)
            assert worker.poll() is None  # still running: it waits for jobs
    finally:
        os.environ.clear()
        os.environ.update(previous)
    assert worker.returncode is not None
