"""Browser-test support: axe-core comes from npm (pinned by package-lock.json)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session", autouse=True)
def axe_core() -> Path | None:
    """Install axe-core once when it is missing, so the README's test command needs no step.

    Only the npm registry is reached, through `npm ci` and the committed lock file.
    """
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(
            ["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--silent"],
            check=False,
            timeout=300,
        )
    return AXE if AXE.exists() else None
