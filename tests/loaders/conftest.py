"""Helpers for the loader tests: fixture paths, a fixed today, and reading a whole file."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 11, 1)


def read_all(loader: Any, data: bytes | Path) -> list[Any]:
    """Every row a loader yields for a file (bytes or a path)."""
    if isinstance(data, Path):
        data = data.read_bytes()
    return list(loader.rows(io.BytesIO(data)))


def by_number(rows: Iterable[Any]) -> dict[str, Any]:
    return {r.row_number: r for r in rows}


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
