"""SQL of the flag table: idempotent writes from the run's staging table, and stale flags."""

from __future__ import annotations

import asyncpg

from rnu.ingest.references import raise_dangling
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

# A staged flag is "por verificar" ('pending') when its row has a weak link or, for a
# duplicate, when one of the person's linked rows in that file has, or when the finding itself
# is a match the engine sent to review (a PGH-duplicate pair in the grey zone); a reviewer's
# decision re-runs the check. The duplicate's probe of the person's other rows runs only for
# people with a weak linked row somewhere (a hashed set: the weak rows are few), not for each
# of the hundreds of thousands of duplicates a file can raise.
_VERIFICATION = f"""CASE WHEN c.roll_row_id IN (
         SELECT r.id FROM roll_row r JOIN load_batch b ON b.id = r.batch_id WHERE {_WEAK})
       OR (c.kind = 'duplicate_in_program' AND c.person_id IN (
         SELECT r.person_id FROM roll_row r JOIN load_batch b ON b.id = r.batch_id
         WHERE r.outcome = 'linked' AND {_WEAK})
         AND EXISTS (
           SELECT 1 FROM roll_row r0
           JOIN roll_row r ON r.batch_id = r0.batch_id AND r.person_id = c.person_id
           JOIN load_batch b ON b.id = r.batch_id
           WHERE r0.id = c.roll_row_id AND r.outcome = 'linked' AND {_WEAK}))
       OR c.evidence->'facts'->>'outcome' = 'review'
     THEN 'pending' ELSE 'verified' END"""


def _scope(*, program: bool, period: bool) -> str:
    """$1 program, $2 period compared with `=` (IS NULL for the registry-wide kinds).

    With `=` the flag table's unique index finds the run's own flags; with IS NOT DISTINCT
    FROM no index applies and every statement would read every open flag of every period.
    """
    return " AND ".join(
        f"f.{column} = ${n}" if given else f"f.{column} IS NULL AND ${n}::text IS NULL"
        for n, column, given in ((1, "program_code", program), (2, "period", period))
    )


def update_flags_sql(*, program: bool, period: bool) -> str:
    """$1 program, $2 period: the run's findings that are already flags, where they changed.

    An unchanged finding changes nothing; a dismissed one reopens only when its evidence
    changed; one the registry had stopped showing (resolved) reopens when it shows again.
    """
    return f"""
WITH changed AS (
  UPDATE flag AS f SET
    severity = c.severity, person_id = c.person_id, household_id = c.household_id,
    roll_row_id = c.roll_row_id, ubigeo = c.ubigeo, evidence = c.evidence,
    evidence_hash = c.evidence_hash, verification = c.verification,
    status = CASE
      WHEN f.status = 'resolved' THEN 'open'
      WHEN f.status = 'dismissed' AND f.evidence_hash <> c.evidence_hash THEN 'open'
      ELSE f.status END,
    dismissed_reason = CASE
      WHEN f.status = 'dismissed' AND f.evidence_hash <> c.evidence_hash THEN NULL
      ELSE f.dismissed_reason END,
    updated_at = now()
  FROM (SELECT c.*, md5(c.evidence::text) AS evidence_hash, {_VERIFICATION} AS verification
        FROM chk_flag c) c
  WHERE f.kind = c.kind AND f.subject_key = c.subject_key
    AND {_scope(program=program, period=period)}
    AND (f.evidence_hash <> c.evidence_hash OR f.status = 'resolved'
         OR f.roll_row_id IS DISTINCT FROM c.roll_row_id OR f.verification <> c.verification)
  RETURNING 1)
SELECT count(*) FROM changed
"""


def insert_flags_sql(*, program: bool, period: bool, first: bool) -> str:
    """$1 program, $2 period: the run's findings that are not flags yet, as open flags.

    `first`: the scope holds no flag of the staged kinds yet (`held_sql`), the first check of
    a period: a plain INSERT, which neither reads `flag` nor pays a speculative insertion
    (12.1 against 8.7 CPU-s for 860k flags, bench/check_speed.py); the write lock
    (`LOCK_SCOPE`) keeps any other run of the scope out until this one commits. Otherwise
    the findings already flagged (updated or unchanged) are left out by an anti-join, and
    the unique index stands behind it.
    """
    if first:
        where = ""
    else:
        where = f"""WHERE NOT EXISTS (SELECT 1 FROM flag f WHERE f.kind = c.kind
                  AND f.subject_key = c.subject_key AND {_scope(program=program, period=period)})
ON CONFLICT (kind, program_code, period, subject_key) DO NOTHING"""
    return f"""
INSERT INTO flag (kind, severity, subject_key, person_id, household_id, roll_row_id,
                  program_code, period, ubigeo, evidence, evidence_hash, status, verification)
SELECT c.kind, c.severity, c.subject_key, c.person_id, c.household_id, c.roll_row_id, $1::text,
       $2::text, c.ubigeo, c.evidence, md5(c.evidence::text), 'open', {_VERIFICATION}
FROM chk_flag c
{where}
"""


def held_sql(*, program: bool, period: bool) -> str:
    """$1 program, $2 period, $3 kinds: whether the scope holds a flag of one of the kinds.

    One probe of the unique index's (kind, program, period) prefix per kind.
    """
    return f"""
SELECT EXISTS (SELECT 1 FROM flag f WHERE f.kind = ANY($3::text[])
               AND {_scope(program=program, period=period)})
"""


# $1 program, $2 period (either NULL for the registry-wide kinds). One writer of a scope's
# flags at a time, until commit: two runs of the same checks (a load's and `rnu check --all`)
# would otherwise both insert the same new findings.
LOCK_SCOPE = (
    "SELECT pg_advisory_xact_lock(hashtext('rnu:flags:' || coalesce($1::text, '') || ':' "
    "|| coalesce($2::text, '')))"
)

# One staged row per (kind, subject): of several, the one with the lowest roll_row_id is kept
# (what DISTINCT ON … ORDER BY roll_row_id kept before). Only keys staged twice are touched:
# a duplicate's linked row can also be an unmatched twin's.
_DEDUPLICATE = """
DELETE FROM chk_flag c USING (
  SELECT kind, subject_key FROM chk_flag GROUP BY kind, subject_key HAVING count(*) > 1) d
WHERE c.kind = d.kind AND c.subject_key = d.subject_key
  AND c.ctid <> (SELECT k.ctid FROM chk_flag k WHERE k.kind = d.kind
                 AND k.subject_key = d.subject_key ORDER BY k.roll_row_id LIMIT 1)
"""

# The run's findings, made plannable before they are joined to `flag`. chk_flag was filled
# in this transaction, so it has no statistics: the planner took it for a handful of rows
# and, with `flag` just as unknown after a first load, anti-joined the two by a nested loop
# that read chk_flag once per open flag (quadratic: a 250k-row check ran for more than five
# minutes). With statistics the joins are hashed; with the index even a nested loop probes
# instead of scanning. A temporary table is the session's own: ANALYZE locks nobody out.
# Then one row per kind and subject, which the update and the insert rely on.
PREPARE_STAGED = [
    "CREATE INDEX ON chk_flag (kind, subject_key)",
    "ANALYZE chk_flag",
    _DEDUPLICATE,
]


def resolve_stale_sql(*, program: bool, period: bool) -> str:
    """$1 program, $2 period, $3 kinds the run judged; `program`/`period`: whether given.

    Open flags the run no longer finds are resolved; an analyst's confirmed or dismissed
    decision is left as it is. Program and period as in `_scope`, so only the run's own
    flags are read, not every open flag of its kinds in the history.
    """
    return f"""
WITH gone AS (
  UPDATE flag f SET status = 'resolved', updated_at = now()
  WHERE {_scope(program=program, period=period)}
    AND f.kind = ANY($3::text[]) AND f.status = 'open'
    AND NOT EXISTS (SELECT 1 FROM chk_flag c WHERE c.kind = f.kind
                    AND c.subject_key = f.subject_key)
  RETURNING 1)
SELECT count(*) FROM gone
"""


def _missing(column: str, table: str, name: str) -> str:
    """Staged flags whose `column` names no row of `table`: an anti-join, once per run."""
    return (
        f"(SELECT count(*) FROM chk_flag c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {table} x WHERE x.id = c.{column})) AS {name}"
    )


# $1 program (NULL for registry-wide kinds). What the foreign keys on flag checked once per
# row and reference (migration 0009_flag_refs), checked once per run. Each reference is an
# anti-join the planner may hash (chk_flag is analysed just before): as a probe of a primary
# key per staged flag it cost 9.9 CPU-s of a 1M-row load's checks (2.6M probes, the
# registry's tables freshly written and not yet all-visible), hashed 2.3.
_DANGLING = f"""
SELECT {_missing("person_id", "person", "flag_person")},
  {_missing("household_id", "household", "flag_household")},
  {_missing("roll_row_id", "roll_row", "flag_row")},
  (SELECT count(*) FROM (SELECT $1::text AS code) q
   WHERE q.code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM program WHERE code = q.code))
    AS flag_program
"""


async def check_staged_references(conn: asyncpg.Connection, program: str | None) -> None:
    """Raise DanglingReference when a staged flag names no person, household, row..."""
    found = await conn.fetchrow(_DANGLING, program)
    assert found is not None
    raise_dangling("the check's flags", {name: n for name, n in found.items() if n})


async def write_flags(
    conn: asyncpg.Connection, *, program: str | None, period: str | None, kinds: list[str]
) -> tuple[int, int, int]:
    """Write `chk_flag` into `flag`, resolve what it no longer holds: (new, changed, resolved).

    `chk_flag` is left deduplicated: one row per kind and subject.
    """
    await conn.execute(LOCK_SCOPE, program, period)
    for statement in PREPARE_STAGED:
        await conn.execute(statement)
    await check_staged_references(conn, program)
    scope = {"program": program is not None, "period": period is not None}
    # Resolved first: the flags it reads are the scope's open flags not staged, which the
    # update and the insert do not touch; on a first check of a period there are none yet,
    # where after the insert it would read every flag just written.
    resolved: int = await conn.fetchval(resolve_stale_sql(**scope), program, period, kinds)
    updated = 0
    staged = [r[0] for r in await conn.fetch("SELECT DISTINCT kind FROM chk_flag")]
    first = not await conn.fetchval(held_sql(**scope), program, period, staged)
    if not first:
        updated = await conn.fetchval(update_flags_sql(**scope), program, period)
    status = await conn.execute(insert_flags_sql(**scope, first=first), program, period)
    inserted = int(status.split()[-1])
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
