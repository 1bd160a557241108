"""Referential integrity of a program batch, checked set-based before it commits.

roll_row and enrollment carry no per-row foreign-key triggers (migration 0006 says why): a
batch's rows are checked here instead, in the batch's own transaction, with one pass over
each table. A dangling reference aborts the batch like a foreign-key violation would.
"""

from __future__ import annotations

import asyncpg

from rnu.errors import RnuError

# $1 batch id, $2 program code. Each count is a kind of dangling reference. Every reference
# is a correlated probe of a primary key, one per row: a plan that stays linear whatever the
# statistics say. (As joins, with statistics that do not yet count this batch's rows, the
# planner chose nested loops over sequential scans: quadratic, minutes on 15k rows.)
# An enrollment is checked against its own roll row (one probe): the load writes both with
# the same person and household, so a row whose person and household exist vouches for its
# enrollment's, and an enrollment that differs from its row is as wrong as a dangling one
# (five probes per row became three: ≈ 2 of the 5 CPU-s a 1M-row load spent here).
_DANGLING = """
WITH rows AS (
  SELECT
    count(*) FILTER (WHERE r.person_id IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = r.person_id))
      AS row_person,
    count(*) FILTER (WHERE r.household_id IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM household h WHERE h.id = r.household_id))
      AS row_household
  FROM roll_row r WHERE r.batch_id = $1
), enrollments AS (
  SELECT
    count(*) FILTER (WHERE c.unlike = 1) AS enrollment_person,
    count(*) FILTER (WHERE c.unlike = 2) AS enrollment_household,
    count(*) FILTER (WHERE c.program_code <> $2 OR c.unlike IS NULL) AS enrollment_row
  FROM (
    SELECT e.program_code,
      (SELECT CASE WHEN r.person_id IS DISTINCT FROM e.person_id THEN 1
                   WHEN r.household_id IS DISTINCT FROM e.household_id THEN 2
                   ELSE 0 END
       FROM roll_row r WHERE r.id = e.roll_row_id AND r.batch_id = e.batch_id) AS unlike
    FROM enrollment e WHERE e.batch_id = $1
    OFFSET 0  -- kept a subquery: inlined, the probe ran once per count
  ) c
)
SELECT rows.*, enrollments.*,
  (SELECT count(*) FROM load_batch b
   WHERE b.id = $1 AND b.source = $2 AND EXISTS (SELECT 1 FROM program WHERE code = $2))
    AS batch_known
FROM rows, enrollments
"""


class DanglingReference(RnuError):
    """A batch would commit rows that point at nothing: a bug, never bad input."""


async def check_batch_references(conn: asyncpg.Connection, batch_id: int, program: str) -> None:
    """Raise DanglingReference when a row of the batch points at no person, household, etc."""
    found = await conn.fetchrow(_DANGLING, batch_id, program)
    assert found is not None
    dangling = {name: n for name, n in found.items() if name != "batch_known" and n}
    if found["batch_known"] != 1:
        dangling["batch_or_program"] = 1
    raise_dangling(f"batch {batch_id}", dangling)


def missing_count(source: str, column: str, table: str, name: str) -> str:
    """SQL counting `source` rows whose `column` names no row of `table` (one probe each)."""
    return (
        f"count(*) FILTER (WHERE {source}.{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {table} x WHERE x.id = {source}.{column})) AS {name}"
    )


def raise_dangling(what: str, dangling: dict[str, int]) -> None:
    """Raise DanglingReference naming each kind of dangling reference, if there is any."""
    if dangling:
        detail = ", ".join(f"{name} {n:,}" for name, n in sorted(dangling.items()))
        raise DanglingReference(f"{what} has dangling references: {detail}")
