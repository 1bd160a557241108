"""`rnu users add` without a terminal says how to pipe the password (issue 13, item 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_users_add_without_a_terminal_names_password_stdin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "users", "add", "ana", "--role", "analyst"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--password-stdin" in result.stderr
