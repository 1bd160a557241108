"""A PGH load after a failed one, with statistics that say the tables are empty.

Autovacuum may analyse person and household while they hold only a killed load's dead rows;
the next load must not then join its rows by nested loops over sequential scans (the
loader-kill drill once hung ten minutes on that). The load plans with fresh statistics.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import pytest

from rnu.embedded import plain_url
from tests.rnu.ingest.builders import population, write_pgh
from tests.rnu.ingest.test_pipeline import fetch, load


async def leave_dead_rows_and_empty_statistics(url: str, households: int) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute(
            "INSERT INTO household (pgh_code, ubigeo, area) "
            "SELECT 'X' || g, '150101', 'U' FROM generate_series(1, $1) g",
            households,
        )
        await conn.execute(
            "INSERT INTO person (pgh_key, nombres, apellido_paterno) "
            "SELECT 'X' || g || '-1', 'A', 'B' FROM generate_series(1, $1) g",
            households * 3,
        )
        await tx.rollback()
        await conn.execute("ANALYZE person")
        await conn.execute("ANALYZE household")
    finally:
        await conn.close()


@pytest.mark.slow
def test_load_after_a_failed_one_plans_with_fresh_statistics(
    ingest_db: str, tmp_path: Path
) -> None:
    households = 10_000
    asyncio.run(leave_dead_rows_and_empty_statistics(ingest_db, households))
    assert fetch(ingest_db, "SELECT reltuples FROM pg_class WHERE relname = 'person'")[0][0] == 0

    started = time.perf_counter()
    result = load(ingest_db, write_pgh(tmp_path / "pgh_202610.csv", population("Q", households)))
    seconds = time.perf_counter() - started

    members = fetch(ingest_db, "SELECT count(*) FROM household_member")[0][0]
    assert (result.rows_loaded, members) == (households * 3, households * 3)
    # The statistics the merge planned with counted the new rows (not the empty analysis).
    assert fetch(ingest_db, "SELECT reltuples FROM pg_class WHERE relname = 'person'")[0][0] > 0
    print(f"\n30,000-row PGH after a failed load: {seconds:.1f} s")  # noqa: T201
