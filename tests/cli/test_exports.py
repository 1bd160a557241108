"""Exports name their output file on the command line: a bad path is one line, found first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# An unreachable configured server: the path must be refused before any connection is tried.
UNREACHABLE = "postgresql://postgres@127.0.0.1:9/nowhere"


def rnu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RNU_REDIS_URL"}
    env.update(RNU_DATABASE_URL=UNREACHABLE, RNU_DATA_DIR=str(data_dir), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command", [["links", "export"], ["flags", "export"], ["quarantine", "1"]], ids=" ".join
)
def test_a_missing_folder_or_a_folder_is_one_line(tmp_path: Path, command: list[str]) -> None:
    for out, shown in ((tmp_path / "no" / "x.csv", "does not exist"), (tmp_path, "is a folder")):
        done = rnu(*command, "--out", str(out), data_dir=tmp_path)
        assert done.returncode == 2, done.stderr
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("error:"), done.stderr
        assert shown in lines[0], done.stderr


def test_a_file_system_error_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """What no early check looks at (here /proc refuses a new folder) still ends in one line."""
    done = rnu("synth", "--people", "10", "--out", "/proc/rnu-pais", data_dir=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: /proc/rnu-pais: {os.strerror(2)}"], done.stderr
