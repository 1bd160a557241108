"""truth/rows.csv: one line per program row, with global row numbers."""

from __future__ import annotations

from pathlib import Path
from typing import IO

TRUTH_HEADER = "file,row_number,true_person_key,defects,cases\n"


def merge_truth(part: Path, out: IO[str], offsets: dict[tuple[str, str], int]) -> None:
    """Copy a chunk's truth lines, shifting chunk-local row numbers by earlier chunks' rows.

    Excel rows are numbered per sheet as `sheet!n`; text files by data row from 1.
    """
    write = out.write
    with part.open(encoding="utf-8") as fh:
        for line in fh:
            file, sheet, n, key, defects, cases = line.rstrip("\n").split("\t")
            number = int(n) + offsets.get((file, sheet), 0)
            row = f"{sheet}!{number}" if sheet else str(number)
            write(f"{file},{row},{key},{defects},{cases}\n")
