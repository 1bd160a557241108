"""A port outside 1-65535 is refused before anything starts (99999 used to 'run' on it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("command", "port"), [("serve", "99999"), ("demo", "0")])
def test_a_port_that_is_none_is_refused(command: str, port: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", command, "--port", port],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--port'" in done.stderr
