"""SQL of the flag table: idempotent upsert from the run's staging table, and stale flags."""

from __future__ import annotations

import asyncpg

# $1 program (NULL for registry-wide kinds), $2 period (NULL likewise).
# An unchanged finding changes nothing; a dismissed one reopens only when its evidence
# changed; one the registry had stopped showing (resolved) reopens when it shows again.
UPSERT_FLAGS = """
WITH staged AS (
  SELECT DISTINCT ON (kind, subject_key) kind, severity, subject_key, person_id, household_id,
         roll_row_id, ubigeo, evidence, md5(evidence::text) AS evidence_hash
  FROM chk_flag ORDER BY kind, subject_key, roll_row_id
), written AS (
  INSERT INTO flag AS f (kind, severity, subject_key, person_id, household_id, roll_row_id,
                         program_code, period, ubigeo, evidence, evidence_hash, status)
  SELECT kind, severity, subject_key, person_id, household_id, roll_row_id, $1, $2, ubigeo,
         evidence, evidence_hash, 'open'
  FROM staged
  ON CONFLICT (kind, program_code, period, subject_key) DO UPDATE SET
    severity = EXCLUDED.severity, person_id = EXCLUDED.person_id,
    household_id = EXCLUDED.household_id, roll_row_id = EXCLUDED.roll_row_id,
    ubigeo = EXCLUDED.ubigeo, evidence = EXCLUDED.evidence,
    evidence_hash = EXCLUDED.evidence_hash,
    status = CASE
      WHEN f.status = 'resolved' THEN 'open'
      WHEN f.status = 'dismissed' AND f.evidence_hash <> EXCLUDED.evidence_hash THEN 'open'
      ELSE f.status END,
    dismissed_reason = CASE
      WHEN f.status = 'dismissed' AND f.evidence_hash <> EXCLUDED.evidence_hash THEN NULL
      ELSE f.dismissed_reason END,
    updated_at = now()
  WHERE f.evidence_hash <> EXCLUDED.evidence_hash OR f.status = 'resolved'
     OR f.roll_row_id IS DISTINCT FROM EXCLUDED.roll_row_id
  RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated
FROM written
"""

# $1 program, $2 period, $3 kinds the run judged. Open flags the run no longer finds are
# resolved; an analyst's confirmed or dismissed decision is left as it is.
RESOLVE_STALE = """
WITH gone AS (
  UPDATE flag f SET status = 'resolved', updated_at = now()
  WHERE f.program_code IS NOT DISTINCT FROM $1 AND f.period IS NOT DISTINCT FROM $2
    AND f.kind = ANY($3::text[]) AND f.status = 'open'
    AND NOT EXISTS (SELECT 1 FROM chk_flag c WHERE c.kind = f.kind
                    AND c.subject_key = f.subject_key)
  RETURNING 1)
SELECT count(*) FROM gone
"""


async def write_flags(
    conn: asyncpg.Connection, *, program: str | None, period: str | None, kinds: list[str]
) -> tuple[int, int, int]:
    """Upsert `chk_flag` into `flag`, resolve what it no longer holds: (new, changed, resolved)."""
    row = await conn.fetchrow(UPSERT_FLAGS, program, period)
    resolved: int = await conn.fetchval(RESOLVE_STALE, program, period, kinds)
    assert row is not None
    return int(row["inserted"]), int(row["updated"]), resolved


async def committed_batch(conn: asyncpg.Connection, program: str, period: str) -> int | None:
    """The batch whose rows are the program's roll for the period (snapshot semantics)."""
    value: int | None = await conn.fetchval(
        "SELECT max(id) FROM load_batch WHERE source = $1 AND period = $2 AND status = 'committed'",
        program,
        period,
    )
    return value


async def loaded_periods(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(program, period) of every committed program roll."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT b.source, b.period FROM load_batch b JOIN program p ON p.code = b.source
        WHERE b.status = 'committed' ORDER BY b.source, b.period
        """
    )
    return [(r[0], r[1]) for r in rows]
