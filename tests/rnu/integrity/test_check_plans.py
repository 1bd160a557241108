"""The checks' statements keep linear plans at a few hundred thousand flags.

Wall time would be a flaky assertion on a shared machine; the plan is not. Every statement
a check runs is EXPLAINed on the real database in the state the check leaves it (tables
filled in the same transaction, statistics stale) and must contain no nested loop that
rescans a table and no correlated subquery that scans one: those are the shapes that made
the checks after a 250k-row load run for more than five minutes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from rnu.db import connect_raw
from rnu.integrity.repository import PREPARE_STAGED, resolve_stale_sql
from rnu.integrity.service import check_program_period
from rnu.sqlplans import Explaining
from tests.rnu.integrity.conftest import DATA_TABLES

ROWS = 300_000
PERIOD = "2026-10"

# Every enrollment raises a flag: one in ten people is not in the PGH (not_in_pgh), the
# others live in households whose CSE does not qualify for SIS or is missing. One row in
# four names the person of the row before it: both rows are duplicate_in_program.
_SEED = """
INSERT INTO load_batch (id, source, period, file_name, sha256, status)
VALUES (1, 'SIS', '2026-10', 'sis_202610.csv.gz', 'plans', 'committed');
INSERT INTO household (id, pgh_code, ubigeo, area, cse)
SELECT h, 'H' || h, '150101', 'U', CASE WHEN h % 2 = 0 THEN 'NP' END
FROM generate_series(1, {n} / 3 + 1) h;
INSERT INTO person (id, pgh_key, in_pgh, doc_type, doc_number, nombres, apellido_paterno,
                    birth_on, sex, ubigeo)
SELECT i, CASE WHEN i % 10 <> 0 THEN 'K' || i END, i % 10 <> 0, 'DNI', lpad(i::text, 8, '0'),
       'N' || i, 'P' || i, date '1950-01-01' + (i % 20000), 'F', '150101'
FROM generate_series(1, {n}) i;
INSERT INTO household_member (person_id, household_id, member_number)
SELECT i, 1 + i / 3, 1 + i % 3 FROM generate_series(1, {n}) i WHERE i % 10 <> 0;
INSERT INTO roll_row (id, batch_id, row_number, person_id, outcome, method, weight)
SELECT i, 1, i::text, CASE WHEN i % 4 = 0 THEN i - 1 ELSE i END, 'linked', 'exact_document', 20
FROM generate_series(1, {n}) i;
INSERT INTO enrollment (person_id, program_code, period, batch_id, roll_row_id, match_method)
SELECT person_id, 'SIS', '2026-10', 1, min(id), 'exact_document' FROM roll_row
GROUP BY person_id;
ANALYZE;
"""


@pytest.fixture
async def conn(integrity_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect_raw(integrity_url)
    try:
        await connection.execute(_SEED.format(n=ROWS))
        yield connection
    finally:
        await connection.execute(f"TRUNCATE {', '.join(DATA_TABLES)} CASCADE")
        await connection.close()


@pytest.mark.slow
async def test_checks_plan_linearly_on_a_fresh_registry_and_after(
    conn: asyncpg.Connection,
) -> None:
    # First check of a fresh registry: flag is empty (and was analysed so), the findings
    # are inserted and joined back in the same transaction.
    await conn.execute("ANALYZE flag")
    first = Explaining(conn)
    result = await check_program_period(first, "SIS", PERIOD)
    assert result.found["not_in_pgh"] == ROWS // 20  # i % 10 = 0, not a second row
    assert result.found["duplicate_in_program"] == ROWS // 2
    assert first.quadratic() == []
    assert any("UPDATE flag f SET status = 'resolved'" in s.sql for s in first.statements)

    # The households of a third of the people qualify now: their flags are resolved.
    await conn.execute("UPDATE household SET cse = 'PE' WHERE id % 3 = 0")
    expected = await conn.fetchval(
        "SELECT count(*) FROM flag WHERE kind LIKE 'cse_%' AND household_id % 3 = 0"
    )
    second = Explaining(conn)
    result = await check_program_period(second, "SIS", PERIOD)
    assert result.resolved == expected > 0
    assert second.quadratic() == []


async def test_a_rescan_is_reported_and_the_staged_index_turns_it_into_probes(
    integrity_url: str,
) -> None:
    """The detector itself, on the statement it was written for.

    With hash and merge joins off, the planner can only anti-join flag and chk_flag by a
    nested loop: over a sequential scan of chk_flag that is the quadratic plan, over the
    index `PREPARE_STAGED` builds it is one probe per open flag.
    """
    conn = await connect_raw(integrity_url)
    try:
        async with conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE chk_flag (kind text, subject_key text, roll_row_id bigint) "
                "ON COMMIT DROP"
            )
            await conn.execute(
                "INSERT INTO chk_flag SELECT 'deceased', 'person:' || i "
                "FROM generate_series(1, 20000) i"
            )
            await conn.execute("SET LOCAL enable_hashjoin = off")
            await conn.execute("SET LOCAL enable_mergejoin = off")
            sql = resolve_stale_sql(program=True, period=True)
            args = ("SIS", PERIOD, ["deceased"])
            scanning = Explaining(conn)
            await scanning.fetchval(sql, *args)
            assert any("rescans" in q and "chk_flag" in q for q in scanning.quadratic())
            for statement in PREPARE_STAGED:
                await conn.execute(statement)
            probing = Explaining(conn)
            await probing.fetchval(sql, *args)
            assert probing.quadratic() == []
    finally:
        await conn.close()
