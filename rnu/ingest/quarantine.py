"""The quarantine CSV a sector downloads to fix its rows and send them again."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from rnu.db import connect_raw
from rnu.errors import NotFound

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: str) -> str:
    """Prefix a quote so a spreadsheet shows `=HYPERLINK(...)` as text instead of running it.

    OWASP's CSV-injection advice: cells starting with = + - @ tab or CR are formulas.
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value


async def write_quarantine_csv(
    database_url: str, batch_id: int, path: Path, *, message: Callable[[str], str]
) -> int:
    """Write a batch's quarantined rows; `message` is a reason code's Spanish text.

    The messages belong to the loaders' catalogue (above `rnu`): the caller passes it.
    """
    conn = await connect_raw(database_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM load_batch WHERE id = $1", batch_id)
        if not exists:
            raise NotFound(f"there is no batch {batch_id}")
        rows = await conn.fetch(
            "SELECT row_number, raw, reasons FROM quarantined_row WHERE batch_id = $1 ORDER BY id",
            batch_id,
        )
    finally:
        await conn.close()
    columns: list[str] = []
    decoded = []
    for r in rows:
        raw = json.loads(r["raw"]) if isinstance(r["raw"], str) else dict(r["raw"])
        decoded.append((r["row_number"], raw, list(r["reasons"])))
        columns.extend(k for k in raw if k not in columns)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:  # BOM: Excel reads UTF-8
        writer = csv.writer(fh)
        # Headers come from the sector's file too: a column named "=HYPERLINK(…)" is defused.
        writer.writerow(["fila", "motivos", "detalle", *(defuse(c) for c in columns)])
        for row_number, raw, reasons in decoded:
            writer.writerow(
                [
                    row_number,
                    ";".join(reasons),
                    defuse(" ".join(message(code) for code in reasons)),
                    *(defuse(str(raw.get(c, ""))) for c in columns),
                ]
            )
    return len(decoded)
