"""The matching decision of every program row, for scoring against truth and for audits."""

from __future__ import annotations

import csv
from pathlib import Path

from rnu.db import connect_raw


async def export_links(database_url: str, path: Path) -> int:
    """`file,row_number,outcome,person_key,method,weight` for the committed program batches."""
    conn = await connect_raw(database_url)
    count = 0
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["file", "row_number", "outcome", "person_key", "method", "weight"])
            async with conn.transaction():
                cursor = conn.cursor(
                    """
                    SELECT b.file_name, r.row_number, r.outcome, p.pgh_key, r.method, r.weight
                    FROM roll_row r JOIN load_batch b ON b.id = r.batch_id
                    LEFT JOIN person p ON p.id = r.person_id AND r.outcome = 'linked'
                    WHERE b.status = 'committed' AND b.source NOT IN ('PGH', 'DEATHS')
                    UNION ALL
                    SELECT b.file_name, q.row_number, 'quarantined', NULL, NULL, NULL
                    FROM quarantined_row q JOIN load_batch b ON b.id = q.batch_id
                    WHERE b.status = 'committed' AND b.source NOT IN ('PGH', 'DEATHS')
                    """,
                    prefetch=10_000,
                )
                async for r in cursor:
                    weight = "" if r[5] is None else f"{r[5]:.2f}"
                    writer.writerow([r[0], r[1], r[2], r[3] or "", r[4] or "", weight])
                    count += 1
    finally:
        await conn.close()
    return count
