"""Fit the fallback match model shipped with RNU, on a synthetic country.

    .venv/bin/python scripts/fit_default_model.py DATABASE_URL COUNTRY_DIR

The database must hold that country's PGH (`rnu load pgh`). The fallback is used only when a
load has too few training pairs of its own to fit on (tiny files, tests); every real load
fits m/u on its own data first.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from loaders.registry import LOADERS
from rnu.db import connect_raw
from rnu.ingest.matcher import build_index, to_record
from rnu.ingest.rows import CanonicalRow
from rnu.matching.calibrate import fit

OUT = Path(__file__).resolve().parent.parent / "rnu" / "matching" / "default_model.json"


async def main(database_url: str, sis: Path) -> None:
    conn = await connect_raw(database_url)
    try:
        index = await build_index(conn)
    finally:
        await conn.close()
    with sis.open("rb") as fh:
        rows = [r for r in LOADERS["sis"](period="2026-10").rows(fh) if isinstance(r, CanonicalRow)]
    records = [to_record(r, r.row_number) for r in rows[:20_000]]
    model, thresholds = fit(index, records)
    OUT.write_text(
        json.dumps(
            {"model": json.loads(model.to_json()), "thresholds": asdict(thresholds)},
            indent=1,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT} (upper {thresholds.upper:.2f}, lower {thresholds.lower:.2f})")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], next(Path(sys.argv[2]).glob("sis_*.csv.gz"))))
