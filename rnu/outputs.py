"""Output files an operator names, checked before the work that fills them.

An export streams rows from the database into its file, `rnu match` matches whole lists
first: a folder that does not exist (or a folder given as the file) surfaced only when the
file was opened, as a traceback, after the work had been done.
"""

from __future__ import annotations

from pathlib import Path

from rnu.errors import InvalidInput


def output_file(path: Path) -> Path:
    """`path` when a file can be created there; else a one-line `InvalidInput`."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise InvalidInput(f"{path}: folder {path.parent} does not exist")
    return path
