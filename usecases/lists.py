"""Outside lists (prisons, payrolls, pensions) read through a mapping, for cross-checks."""

from __future__ import annotations

import tomllib
from pathlib import Path

from loaders.mapping import MappingError, MappingLoader
from rnu.errors import InvalidInput
from rnu.ingest.rows import CanonicalRow
from rnu.integrity.lists import read_rows


def read_list(path: Path, mapping: Path) -> tuple[list[CanonicalRow], int]:
    """The list's readable rows and how many were rejected, read by its TOML mapping.

    An outside list is no program's roll: its mapping may leave `[program]` out. A mapping
    that is not TOML, or that the loader refuses, is one line naming the mapping (it was a
    MappingError traceback).
    """
    if not mapping.is_file():
        raise InvalidInput(f"{mapping} is not a file")
    try:
        with mapping.open("rb") as handle:
            table = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"mapping {mapping} is not valid TOML: {exc}") from None
    program = table.setdefault("program", {})
    if isinstance(program, dict):
        program.setdefault("sector", "list")
    try:
        loader = MappingLoader(table)
    except MappingError as exc:
        raise InvalidInput(f"mapping {mapping}: {exc}") from None
    return read_rows(path, loader)
