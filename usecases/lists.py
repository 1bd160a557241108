"""Outside lists (prisons, payrolls, pensions) read through a mapping, for cross-checks."""

from __future__ import annotations

from pathlib import Path

from loaders.mapping import MappingLoader
from rnu.errors import InvalidInput
from rnu.ingest.rows import CanonicalRow
from rnu.integrity.lists import read_rows


def read_list(path: Path, mapping: Path) -> tuple[list[CanonicalRow], int]:
    """The list's readable rows and how many were rejected, read by its TOML mapping."""
    if not mapping.is_file():
        raise InvalidInput(f"{mapping} is not a file")
    return read_rows(path, MappingLoader(mapping))
