"""The load's chunk reference check probes by primary key at >= 100k rows, stats stale.

A batch being loaded has no statistics yet: the planner believes its batch id, program and
period select "a few rows". Probing by those indexes instead of the primary key and the
person's unique key read the whole batch so far once per row (a 100k-row load against a
3M-person PGH spent 430 s so). The plan is asserted, not the time: a timed assertion
would be flaky on a shared machine; the plan is not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rnu.db import connect_raw
from rnu.ingest.references import _SLICE, ChunkReferences

ROWS = 120_000

# An earlier, analysed batch of another period; then this batch's rows and enrollments,
# written in the same transaction as the check (no statistics for them).
_EARLIER = """
INSERT INTO load_batch (id, source, period, file_name, sha256, status)
VALUES (1, 'SIS', '2026-09', 'sis_202609.csv.gz', 'old', 'committed'),
       (2, 'SIS', '2026-10', 'sis_202610.csv.gz', 'new', 'loading');
INSERT INTO household (id, pgh_code, ubigeo, area, cse)
SELECT h, 'H' || h, '150101', 'U', 'P' FROM generate_series(1, {n} / 3 + 1) h;
INSERT INTO person (id, pgh_key, in_pgh, doc_type, doc_number, nombres, apellido_paterno,
                    birth_on, sex, ubigeo)
SELECT i, 'K' || i, true, 'DNI', lpad(i::text, 8, '0'), 'N' || i, 'P' || i,
       date '1950-01-01' + (i % 20000), 'F', '150101'
FROM generate_series(1, {n}) i;
INSERT INTO roll_row (id, batch_id, row_number, person_id, household_id, outcome, method)
SELECT i, 1, i::text, i, 1 + i / 3, 'linked', 'exact_document' FROM generate_series(1, {n}) i;
INSERT INTO enrollment (person_id, program_code, period, household_id, batch_id,
                        roll_row_id, match_method)
SELECT i, 'SIS', '2026-09', 1 + i / 3, 1, i, 'exact_document' FROM generate_series(1, {n}) i;
ANALYZE;
"""
_THIS_BATCH = """
INSERT INTO roll_row (id, batch_id, row_number, person_id, household_id, outcome, method)
SELECT {n} + i, 2, i::text, i, 1 + i / 3, 'linked', 'exact_document'
FROM generate_series(1, {n}) i;
INSERT INTO enrollment (person_id, program_code, period, household_id, batch_id,
                        roll_row_id, match_method)
SELECT i, 'SIS', '2026-10', 1 + i / 3, 2, {n} + i, 'exact_document'
FROM generate_series(1, {n}) i;
"""


def _scans(node: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(node type, index name) of every scan of roll_row or enrollment in a plan."""
    found = []
    if node.get("Relation Name") in ("roll_row", "enrollment"):
        found.append((node["Node Type"], node.get("Index Name")))
    for child in node.get("Plans", ()):
        found.extend(_scans(child))
    return found


@pytest.mark.slow
async def test_the_chunk_check_probes_by_primary_and_person_keys(ingest_db: str) -> None:
    conn = await connect_raw(ingest_db)
    try:
        await conn.execute(_EARLIER.format(n=ROWS))
        async with conn.transaction():
            await conn.execute(_THIS_BATCH.format(n=ROWS))
            ids = list(range(ROWS + 1, ROWS + 20_001))
            plan = json.loads(
                await conn.fetchval(f"EXPLAIN (FORMAT JSON) {_SLICE}", 2, "SIS", ids, "2026-10")
            )[0]["Plan"]
            assert sorted(set(_scans(plan))) == [
                ("Index Scan", "pk_roll_row"),
                ("Index Scan", "uq_enrollment_person_id_program_code_period"),
            ]
            check = ChunkReferences(2, "SIS", "2026-10")
            await check.check(conn, ids)
            assert check.vouched == 20_000
            await check.check(conn, list(range(ROWS + 20_001, 2 * ROWS + 1)))
            await check.finish(conn, enrolled=ROWS)
            raise _RolledBack
    except _RolledBack:
        pass
    finally:
        await conn.close()


class _RolledBack(Exception):
    """Leaves the batch's transaction without committing it."""
