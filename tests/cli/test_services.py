"""`rnu services status` looks and never starts anything (issue 13, item 11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnu.embedded import embedded_postgres_pid

ROOT = Path(__file__).resolve().parents[2]


def status(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RNU_DATABASE_URL", "RNU_REDIS_URL")}
    env["RNU_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "cli", "services", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_status_of_a_stopped_embedded_server_starts_nothing(tmp_path: Path) -> None:
    result = status(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL (embedded" in result.stderr
    assert "stopped" in result.stderr
    assert not (tmp_path / "pg" / "postmaster.pid").exists()
    assert embedded_postgres_pid(tmp_path) is None


@pytest.mark.skipif("RNU_DATABASE_URL" in os.environ, reason="the suite uses a configured server")
def test_status_sees_a_running_embedded_server(server_url: str) -> None:
    data_dir = Path(os.environ.get("RNU_DATA_DIR", ROOT / ".rnu")) / "test"
    pid = embedded_postgres_pid(data_dir)
    assert pid is not None
    result = status(data_dir)
    assert f"running (pid {pid})" in result.stderr
