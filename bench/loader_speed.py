"""Time the SIS loader on a generated 500k-row gzip file: rows per second on one core.

Run: .venv/bin/python -m bench.loader_speed [rows]
"""

from __future__ import annotations

import gzip
import io
import random
import sys
import time
from datetime import date

from loaders.base import Reject
from loaders.sis import COLUMNS, SisLoader

PATERNOS = ["QUISPE", "MAMANI", "HUAMÁN", "FLORES", "RODRÍGUEZ", "SÁNCHEZ", "GARCÍA", "MUÑOZ"]
NOMBRES = ["JUAN", "MARÍA", "ROSA", "LUIS ALBERTO", "ANA LUCÍA", "JOSÉ", "CARMEN", "PEDRO"]


def make_sis(rows: int, seed: int = 7) -> bytes:
    """A gzip SIS file with `rows` data rows (about 1% of them defective)."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    for i in range(rows):
        dni = f"{rng.randrange(10**8):08d}"
        if i % 100 == 0:
            dni = dni[1:]  # lost leading zero
        born = date(1930 + rng.randrange(90), 1 + rng.randrange(12), 1 + rng.randrange(28))
        out.write(
            f"1,{dni},{rng.choice(PATERNOS)},{rng.choice(PATERNOS)},{rng.choice(NOMBRES)},"
            f"{born.isoformat()},{rng.choice('MF')},{150101 + rng.randrange(40):06d},"
            f"SUBSIDIADO,2020-0{1 + rng.randrange(9)}-15\n"
        )
    return gzip.compress(out.getvalue().encode("utf-8"), compresslevel=1)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    data = make_sis(rows)
    loader = SisLoader(period="2026-10", today=date(2026, 11, 1))
    start = time.perf_counter()
    loaded = rejected = 0
    for row in loader.rows(io.BytesIO(data)):
        if isinstance(row, Reject):
            rejected += 1
        else:
            loaded += 1
    elapsed = time.perf_counter() - start
    print(f"SIS: {loaded + rejected:,} rows ({loaded:,} loaded, {rejected:,} rejected)")
    print(f"     {elapsed:.2f} s -> {(loaded + rejected) / elapsed:,.0f} rows/s on one core")


if __name__ == "__main__":
    main()
