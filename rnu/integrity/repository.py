"""SQL of the flag table: idempotent upsert from the run's staging table, and stale flags."""

from __future__ import annotations

import asyncpg

from rnu.ingest.references import missing_count, raise_dangling
from rnu.registry_state import bump_data_version

# A fuzzy link (no equal document, no reviewer's decision) whose weight is less than this
# many bits above its load's link threshold is "near the threshold": about posterior 0.9998
# against the 0.995 a link needs. Findings that rest on it are held "por verificar".
NEAR_THRESHOLD_BITS = 5.0

# A roll row whose link is unconfirmed: in the review queue, or fuzzy and near the threshold
# (batches loaded before thresholds were kept have none: their links count as they were),
# or fuzzy on a row without a birth date: with no document and no date the evidence is the
# name and place alone, which a namesake in the same district shares.
_WEAK = f"""(r.outcome = 'review' OR (r.method = 'fuzzy'
            AND (r.weight < b.link_threshold + {NEAR_THRESHOLD_BITS} OR r.birth_on IS NULL)))"""

# $1 program (NULL for registry-wide kinds), $2 period (NULL likewise).
# An unchanged finding changes nothing; a dismissed one reopens only when its evidence
# changed; one the registry had stopped showing (resolved) reopens when it shows again.
# `verification` is 'pending' when the flag's row has a weak link or, for a duplicate, when
# one of the person's linked rows in that file has, or when the finding itself is a match
# the engine sent to review (a PGH-duplicate pair in the grey zone); a reviewer's decision
# re-runs the check.
UPSERT_FLAGS = f"""
WITH staged AS (
  SELECT DISTINCT ON (kind, subject_key) kind, severity, subject_key, person_id, household_id,
         roll_row_id, ubigeo, evidence, md5(evidence::text) AS evidence_hash,
         CASE WHEN EXISTS (
                SELECT 1 FROM roll_row r JOIN load_batch b ON b.id = r.batch_id
                WHERE r.id = c.roll_row_id AND {_WEAK})
              OR (c.kind = 'duplicate_in_program' AND EXISTS (
                SELECT 1 FROM roll_row r0
                JOIN roll_row r ON r.batch_id = r0.batch_id AND r.person_id = c.person_id
                JOIN load_batch b ON b.id = r.batch_id
                WHERE r0.id = c.roll_row_id AND r.outcome = 'linked' AND {_WEAK}))
              OR c.evidence->'facts'->>'outcome' = 'review'
           THEN 'pending' ELSE 'verified' END AS verification
  FROM chk_flag c ORDER BY kind, subject_key, roll_row_id
), written AS (
  INSERT INTO flag AS f (kind, severity, subject_key, person_id, household_id, roll_row_id,
                         program_code, period, ubigeo, evidence, evidence_hash, status,
                         verification)
  SELECT kind, severity, subject_key, person_id, household_id, roll_row_id, $1, $2, ubigeo,
         evidence, evidence_hash, 'open', verification
  FROM staged
  ON CONFLICT (kind, program_code, period, subject_key) DO UPDATE SET
    severity = EXCLUDED.severity, person_id = EXCLUDED.person_id,
    household_id = EXCLUDED.household_id, roll_row_id = EXCLUDED.roll_row_id,
    ubigeo = EXCLUDED.ubigeo, evidence = EXCLUDED.evidence,
    evidence_hash = EXCLUDED.evidence_hash, verification = EXCLUDED.verification,
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
     OR f.verification <> EXCLUDED.verification
  RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated
FROM written
"""

# The run's findings, made plannable before they are joined to `flag`. chk_flag was filled
# in this transaction, so it has no statistics: the planner took it for a handful of rows
# and, with `flag` just as unknown after a first load, anti-joined the two by a nested loop
# that read chk_flag once per open flag (quadratic: a 250k-row check ran for more than five
# minutes). With statistics the joins are hashed; with the index even a nested loop probes
# instead of scanning. A temporary table is the session's own: ANALYZE locks nobody out.
PREPARE_STAGED = [
    "CREATE INDEX ON chk_flag (kind, subject_key)",
    "ANALYZE chk_flag",
]


def resolve_stale_sql(*, program: bool, period: bool) -> str:
    """$1 program, $2 period, $3 kinds the run judged; `program`/`period`: whether given.

    Open flags the run no longer finds are resolved; an analyst's confirmed or dismissed
    decision is left as it is. Program and period are compared with `=` (IS NULL for the
    registry-wide kinds, which have neither) so the flag table's unique index finds the
    run's own flags: with IS NOT DISTINCT FROM no index applies, and every check read every
    open flag of its kinds, of every program and period, a cost growing with the history.
    """
    scope = " AND ".join(
        f"f.{column} = ${n}" if given else f"f.{column} IS NULL AND ${n}::text IS NULL"
        for n, column, given in ((1, "program_code", program), (2, "period", period))
    )
    return f"""
WITH gone AS (
  UPDATE flag f SET status = 'resolved', updated_at = now()
  WHERE {scope}
    AND f.kind = ANY($3::text[]) AND f.status = 'open'
    AND NOT EXISTS (SELECT 1 FROM chk_flag c WHERE c.kind = f.kind
                    AND c.subject_key = f.subject_key)
  RETURNING 1)
SELECT count(*) FROM gone
"""


# $1 program (NULL for registry-wide kinds). What the foreign keys on flag checked once per
# row and reference (migration 0009_flag_refs), checked once per run: each reference is a
# probe of a primary key per staged flag, a plan that stays linear whatever the statistics.
_DANGLING = f"""
SELECT {missing_count("c", "person_id", "person", "flag_person")},
  {missing_count("c", "household_id", "household", "flag_household")},
  {missing_count("c", "roll_row_id", "roll_row", "flag_row")},
  (SELECT count(*) FROM (SELECT $1::text AS code) q
   WHERE q.code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM program WHERE code = q.code))
    AS flag_program
FROM chk_flag c
"""


async def check_staged_references(conn: asyncpg.Connection, program: str | None) -> None:
    """Raise DanglingReference when a staged flag names no person, household, row..."""
    found = await conn.fetchrow(_DANGLING, program)
    assert found is not None
    raise_dangling("the check's flags", {name: n for name, n in found.items() if n})


async def write_flags(
    conn: asyncpg.Connection, *, program: str | None, period: str | None, kinds: list[str]
) -> tuple[int, int, int]:
    """Upsert `chk_flag` into `flag`, resolve what it no longer holds: (new, changed, resolved)."""
    for statement in PREPARE_STAGED:
        await conn.execute(statement)
    await check_staged_references(conn, program)
    row = await conn.fetchrow(UPSERT_FLAGS, program, period)
    resolve = resolve_stale_sql(program=program is not None, period=period is not None)
    resolved: int = await conn.fetchval(resolve, program, period, kinds)
    assert row is not None
    inserted, updated = int(row["inserted"]), int(row["updated"])
    if inserted or updated or resolved:
        # The checks run after a batch commits (which bumped the version once); the flags
        # change what statistics and the analysts' counts say, so answers cached between
        # the load and the checks must go stale too.
        await bump_data_version(conn)
    return inserted, updated, resolved


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
