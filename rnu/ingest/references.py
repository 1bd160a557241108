"""Referential integrity of a program batch, checked set-based before it commits.

roll_row and enrollment carry no per-row foreign-key triggers (migration 0006 says why): a
batch's rows are checked here instead, in the batch's own transaction, with one pass over
each table. A dangling reference aborts the batch like a foreign-key violation would.
"""

from __future__ import annotations

import asyncpg

from rnu.errors import RnuError


def _row_counts(rows: str) -> str:
    """The roll rows' dangling person and household references (a key probe each)."""
    return (
        f"count(*) FILTER (WHERE {rows}.person_id IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM person p WHERE p.id = {rows}.person_id)) AS row_person, "
        f"count(*) FILTER (WHERE {rows}.household_id IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM household h WHERE h.id = {rows}.household_id)) AS row_household"
    )


# $1 batch id, $2 program code: the whole batch (`check_batch_references`, a verifier the
# load's own chunk-by-chunk check below replaced on the load path).
# Each count is a kind of dangling reference. Every reference is a correlated probe of a
# primary key, one per row: a plan that stays linear whatever the statistics say. (As joins,
# with statistics that do not yet count this batch's rows, the planner chose nested loops
# over sequential scans: quadratic, minutes on 15k rows.)
# An enrollment is checked against its own roll row (one probe): the load writes both with
# the same person and household, so a row whose person and household exist vouches for its
# enrollment's, and an enrollment that differs from its row is as wrong as a dangling one
# (five probes per row became three).
_WHOLE = f"""
WITH rows AS (
  SELECT
    {_row_counts("r")}
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
# One chunk of a batch being loaded: $1 batch, $2 program, $3 the chunk's roll_row ids,
# $4 period. The rows are read by primary key from the ids (a nested loop the planner cannot
# turn into a rescan of the batch's earlier chunks); each row's enrollment is found from the
# row through the enrollment's unique key, so the check counts the enrollments it vouches for
# and the load compares their sum with the batch's enrollments at the end: an enrollment
# no checked row accounts for (a dangling row, another person or program) makes them differ.
# Only the primary key and the person can lead a probe (`+ 0`, `|| ''`): the statistics of
# a batch, program or period still loading say "a few rows", and probing by the batch's or
# the period's index scanned every row of the batch so far for each row (a 100k-row load
# against a 3M-person PGH spent 430 s so).
_SLICE = f"""
WITH chunk AS (
  SELECT r.id, r.person_id, r.household_id
  FROM unnest($3::bigint[]) AS i(id) CROSS JOIN LATERAL (
    SELECT x.id, x.person_id, x.household_id FROM roll_row x
    WHERE x.id = i.id AND x.batch_id + 0 = $1
    LIMIT 1  -- by primary key, id by id: as a join it hashed a scan of all of roll_row
  ) r
)
SELECT {_row_counts("c")},
  count(e.id) FILTER (WHERE e.household_id IS DISTINCT FROM c.household_id)
    AS enrollment_household,
  count(e.id) AS vouched
FROM chunk c LEFT JOIN LATERAL (
  SELECT x.id, x.household_id FROM enrollment x
  WHERE x.person_id = c.person_id AND x.program_code || '' = $2 AND x.period || '' = $4
    AND x.roll_row_id = c.id
  LIMIT 1  -- a probe per row, never flattened into a join
) e ON true
"""
_BATCH_KNOWN = """
SELECT count(*) FROM load_batch b
WHERE b.id = $1 AND b.source = $2 AND EXISTS (SELECT 1 FROM program WHERE code = $2)
"""


class DanglingReference(RnuError):
    """A batch would commit rows that point at nothing: a bug, never bad input."""


def _raise_found(batch_id: int, found: asyncpg.Record | None) -> None:
    assert found is not None
    dangling = {name: n for name, n in found.items() if name != "batch_known" and n}
    if found["batch_known"] != 1:
        dangling["batch_or_program"] = 1
    raise_dangling(f"batch {batch_id}", dangling)


async def check_batch_references(conn: asyncpg.Connection, batch_id: int, program: str) -> None:
    """Raise DanglingReference when a row of the batch points at no person, household, etc."""
    _raise_found(batch_id, await conn.fetchrow(_WHOLE, batch_id, program))


class ChunkReferences:
    """A batch's references checked chunk by chunk while it loads.

    Each chunk's rows are checked right after they are written, while Python prepares the
    next chunk, instead of all at the end of the load, where the check was PostgreSQL's
    largest cost after the last chunk (≈ 5 CPU-s per million rows) and nothing ran beside it.
    Every row is checked once, after its last write (only a PGH committed meanwhile makes
    the load refresh household ids, from household_member, whose households exist).
    `finish` then compares the enrollments the checks vouched for with the batch's own.
    """

    def __init__(self, batch_id: int, program: str, period: str) -> None:
        self.batch_id, self.program, self.period = batch_id, program, period
        self.vouched = 0

    async def check(self, conn: asyncpg.Connection, roll_row_ids: list[int]) -> None:
        """Check these roll rows of the batch and their enrollments."""
        if not roll_row_ids:
            return
        found = await conn.fetchrow(_SLICE, self.batch_id, self.program, roll_row_ids, self.period)
        assert found is not None
        self.vouched += found["vouched"]
        dangling = {name: n for name, n in found.items() if name != "vouched" and n}
        raise_dangling(f"batch {self.batch_id}", dangling)

    async def finish(self, conn: asyncpg.Connection, enrolled: int) -> None:
        """Every enrollment of the batch must be one a checked row vouched for."""
        dangling: dict[str, int] = {}
        if enrolled != self.vouched:
            dangling["enrollment_unaccounted"] = abs(enrolled - self.vouched)
        if await conn.fetchval(_BATCH_KNOWN, self.batch_id, self.program) != 1:
            dangling["batch_or_program"] = 1
        raise_dangling(f"batch {self.batch_id}", dangling)


def raise_dangling(what: str, dangling: dict[str, int]) -> None:
    """Raise DanglingReference naming each kind of dangling reference, if there is any."""
    if dangling:
        detail = ", ".join(f"{name} {n:,}" for name, n in sorted(dangling.items()))
        raise DanglingReference(f"{what} has dangling references: {detail}")
