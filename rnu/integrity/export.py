"""`rnu flags export`: every open flag with the roll row it points at, for scoring."""

from __future__ import annotations

import csv
from pathlib import Path

from rnu.db import connect_raw

HEADER = [
    "kind", "program", "period", "person_key", "file", "row_number", "status", "verification",
]  # fmt: skip

_OPEN_FLAGS = """
SELECT f.kind, f.program_code, f.period, p.pgh_key, b.file_name, r.row_number, f.status,
       f.verification
FROM flag f
LEFT JOIN person p ON p.id = f.person_id
LEFT JOIN roll_row r ON r.id = f.roll_row_id
LEFT JOIN load_batch b ON b.id = r.batch_id
WHERE f.status = 'open'
ORDER BY f.kind, f.program_code, f.period, b.file_name, r.id, f.id
"""


async def export_flags(database_url: str, path: Path) -> int:
    """Write `kind,program,period,person_key,file,row_number,status,verification`; the count.

    `person_key` is the PGH key of the person the flag is about (empty outside the PGH);
    `file,row_number` name the roll row that shows the problem (empty for PGH duplicates);
    `verification` is `pending` for a flag held "por verificar" (its link is unconfirmed).
    """
    conn = await connect_raw(database_url)
    count = 0
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            async with conn.transaction():
                async for r in conn.cursor(_OPEN_FLAGS, prefetch=10_000):
                    writer.writerow(["" if v is None else v for v in r])
                    count += 1
    finally:
        await conn.close()
    return count
