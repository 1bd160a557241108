"""Run the integrity checks: one program and period, one batch's consequences, or everything.

Each (program, period) is judged in its own transaction on a raw asyncpg connection: the
facts are gathered once into a temporary table, each rule is one INSERT … SELECT, and the
findings are written into `flag` idempotently (see `repository.write_flags`).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from rapidfuzz import fuzz

from rnu.db import connect_raw
from rnu.eligibility.evaluate import RULE_KINDS, period_bounds, rule_in_force
from rnu.eligibility.rules import Program, load_programs
from rnu.errors import NotFound
from rnu.integrity import checks
from rnu.integrity.repository import committed_batch, loaded_periods, write_flags
from rnu.normalize.names import fold

log = logging.getLogger(__name__)

ALL_KINDS = frozenset({*RULE_KINDS, "duplicate_in_program"})
# Folded-name similarity (rapidfuzz, 0-100) for two rows of one file born the same day to
# be taken as one person: tolerates a typo or a lost accent, not a sibling's given name.
NAME_AGREE = 85
# Memory for each sort and hash of a check's statements (PostgreSQL's default is 4MB): after
# a 1M-row load the duplicates' grouping, the joins to person and household_member and the
# anti-joins over chk_flag hash about a million rows each; in 4MB they spilled to disk in
# 8-32 batches. Set for the check's transaction (or the caller's, when it runs inside one).
WORK_MEM = "64MB"


@dataclass
class CheckResult:
    """What one run found for one program and period (or registry-wide, program None)."""

    program: str | None
    period: str | None
    found: dict[str, int] = field(default_factory=dict)
    inserted: int = 0
    updated: int = 0
    resolved: int = 0
    seconds: float = 0.0
    note: str = ""


async def check_program_period(
    conn: asyncpg.Connection,
    program_code: str,
    period: str,
    *,
    kinds: frozenset[str] = ALL_KINDS,
) -> CheckResult:
    """Judge every enrollment of a program's period (only `kinds`), in one transaction."""
    started = time.perf_counter()
    result = CheckResult(program_code, period)
    program = load_programs()[program_code]
    try:
        rule = rule_in_force(program, period)
    except (LookupError, ValueError) as exc:
        result.note = str(exc)
        return result
    first, _ = period_bounds(period)
    statements = [
        s for s in checks.rule_statements(program, rule, period, first) if s.kinds & kinds
    ]
    async with conn.transaction():
        await conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        # Dropped explicitly as well: a caller's outer transaction (a review decision) may
        # run several checks before its commit would drop them.
        await conn.execute(checks.DROP_STAGING)
        await conn.execute(checks.CREATE_FLAG_STAGING)
        await conn.execute(checks.CREATE_ENROLLMENT_FACTS, program_code, period)
        await conn.execute("ANALYZE chk_enr")  # temp tables get no statistics otherwise
        if "duplicate_in_program" in kinds:
            batch_id = await committed_batch(conn, program_code, period)
            if batch_id is not None:
                await conn.execute(checks.SAME_PERSON_ROWS, batch_id)
                await _unmatched_twins(conn, batch_id)
                # not_in_pgh anti-joins these rows: the planner must know how many they are
                await conn.execute("ANALYZE chk_flag")
        for statement in statements:
            await conn.execute(statement.sql, *statement.args)
        # Kinds this run judged: open flags of those kinds it no longer finds are resolved
        # (also kinds the rule in force no longer has, e.g. after a rule change).
        judged = sorted(kinds)
        result.inserted, result.updated, result.resolved = await write_flags(
            conn, program=program_code, period=period, kinds=judged
        )
        result.found = await _found(conn)
        await conn.execute(checks.DROP_STAGING)
    result.seconds = time.perf_counter() - started
    return result


async def _found(conn: asyncpg.Connection) -> dict[str, int]:
    """Subjects found per kind: `write_flags` left one staged row per kind and subject."""
    rows = await conn.fetch("SELECT kind, count(*) FROM chk_flag GROUP BY kind ORDER BY kind")
    return {r[0]: r[1] for r in rows}


def _agreement(a: str | None, b: str | None) -> tuple[str, float]:
    fa, fb = fold(a or ""), fold(b or "")
    if not fa or not fb:
        return "missing", 0.0
    if fa == fb:
        return "exact", 100.0
    score = fuzz.token_sort_ratio(fa, fb)
    return ("fuzzy" if score >= NAME_AGREE else "different"), score


def twin_agreements(
    row: tuple[str | None, str | None, str | None],
    person: tuple[str | None, str | None, str | None],
) -> dict[str, str] | None:
    """Field agreements when a row and a person born the same day are one person, else None.

    Given names must agree and one surname must agree (either order, as sectors swap them).
    """
    nombres, _ = _agreement(row[0], person[0])
    if nombres not in ("exact", "fuzzy"):
        return None
    paterno, _ = _agreement(row[1], person[1])
    materno, _ = _agreement(row[2], person[2])
    if paterno in ("exact", "fuzzy") or materno in ("exact", "fuzzy"):
        return {"nombres": nombres, "paterno": paterno, "materno": materno, "birth_date": "exact"}
    swapped_p, _ = _agreement(row[1], person[2])
    swapped_m, _ = _agreement(row[2], person[1])
    if swapped_p in ("exact", "fuzzy") and swapped_m in ("exact", "fuzzy"):
        return {"nombres": nombres, "paterno": swapped_p, "materno": swapped_m, "swapped": "yes"}
    return None


async def _unmatched_twins(conn: asyncpg.Connection, batch_id: int) -> int:
    """Unmatched rows of a file that are a linked row's person: both rows are flagged."""
    best: dict[int, tuple[Any, dict[str, str]]] = {}
    for r in await conn.fetch(checks.UNMATCHED_TWIN_CANDIDATES, batch_id):
        if r[0] in best:
            continue  # this row's first agreeing person is found (candidates in id order)
        agreements = twin_agreements((r[2], r[3], r[4]), (r[9], r[10], r[11]))
        if agreements is not None:
            best[r[0]] = (r, agreements)
    staged = []
    for r, agreements in best.values():
        facts = {
            "person_key": r[8],
            "rows": [
                {"row": r[6], "outcome": "linked"},
                {"row": r[1], "outcome": "unmatched"},
            ],
            "agreements": agreements,
        }
        evidence = json.dumps(
            {"rule": "duplicate_in_program", "code": "duplicate_in_program", "facts": facts}
        )
        for row_id, row_number in ((r[0], r[1]), (r[5], r[6])):
            staged.append(
                (
                    "duplicate_in_program",
                    "high",
                    f"row:{row_number}",
                    r[7],
                    r[12],
                    row_id,
                    r[13],
                    evidence,
                )
            )
    if staged:
        await conn.executemany(
            "INSERT INTO chk_flag VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)", staged
        )
    return len(best)


def _partners(programs: dict[str, Program], code: str, period: str) -> list[str]:
    """Programs whose rule in `period` names `code` as incompatible."""
    out = []
    for other in programs.values():
        if other.code == code:
            continue
        try:
            rule = rule_in_force(other, period)
        except (LookupError, ValueError):
            continue
        if code in rule.incompatible_with:
            out.append(other.code)
    return out


async def check_batch(database_url: str, batch_id: int) -> list[CheckResult]:
    """The checks a committed batch calls for, and only those.

    A program file: that program and period, plus the incompatibility of the programs that
    exclude it. A deaths file: `deceased` (and Juntos' living-member rule) for the program
    periods of the people it names. A PGH: every loaded program period (CSE, households).
    """
    conn = await connect_raw(database_url)
    try:
        return await check_committed_batch(conn, batch_id)
    finally:
        await conn.close()


async def check_committed_batch(conn: asyncpg.Connection, batch_id: int) -> list[CheckResult]:
    """`check_batch` on the caller's connection (the load use case runs it on its own)."""
    batch = await conn.fetchrow(
        "SELECT source, period, status FROM load_batch WHERE id = $1", batch_id
    )
    if batch is None:
        raise NotFound(f"there is no batch {batch_id} (see `rnu batches`)")
    if batch["status"] != "committed":
        return []
    # The batch just added many rows; autovacuum has not analysed them yet, and with
    # stale statistics the planner picks nested loops over sequential scans (minutes
    # instead of milliseconds on a 200k-person country).
    await conn.execute("ANALYZE roll_row")
    await conn.execute("ANALYZE enrollment")
    await conn.execute("ANALYZE person")
    # And the flags as the last check left them: a rerun's update and anti-join read them.
    await conn.execute("ANALYZE flag")
    source, period = batch["source"], batch["period"]
    programs = load_programs()
    if source in programs:
        results = [await check_program_period(conn, source, period)]
        for partner in _partners(programs, source, period):
            results.append(
                await check_program_period(
                    conn, partner, period, kinds=frozenset({"incompatible_programs"})
                )
            )
        return results
    if source == "DEATHS":
        return await _recheck_deaths(conn, batch_id, programs)
    if source == "PGH":
        return [await check_program_period(conn, p, q) for p, q in await loaded_periods(conn)]
    return []


# $1 deaths batch, $2 programs with a household-member rule (a member's death matters too).
_DEATH_AFFECTED = """
WITH dead AS (
  SELECT p.id FROM death_record d
  JOIN person p ON p.doc_number = d.dni AND p.doc_type IN ('DNI', 'CUI')
  WHERE d.batch_id = $1)
SELECT e.program_code, e.period FROM enrollment e JOIN dead ON dead.id = e.person_id
UNION
SELECT e.program_code, e.period FROM dead
JOIN household_member m ON m.person_id = dead.id
JOIN household_member m2 ON m2.household_id = m.household_id
JOIN enrollment e ON e.person_id = m2.person_id AND e.program_code = ANY($2::text[])
"""


async def _recheck_deaths(
    conn: asyncpg.Connection, batch_id: int, programs: dict[str, Program]
) -> list[CheckResult]:
    household_rule = [
        code
        for code, p in programs.items()
        if any(r.household_needs_member_under is not None for r in p.rules)
    ]
    results = []
    for code, period in await conn.fetch(_DEATH_AFFECTED, batch_id, household_rule):
        kinds = {"deceased"} | ({"age_out_of_range"} if code in household_rule else set())
        results.append(await check_program_period(conn, code, period, kinds=frozenset(kinds)))
    return results


async def check_all(
    database_url: str,
    *,
    pgh_duplicates: bool = True,
    on_result: Callable[[CheckResult, int], None] | None = None,
) -> list[CheckResult]:
    """Every loaded program period, then (optionally) the PGH's own duplicates.

    `on_result(result, total)` hears of each run as it ends (the CLI shows progress).
    """
    conn = await connect_raw(database_url)
    try:
        periods = await loaded_periods(conn)
        total = len(periods) + (1 if pgh_duplicates else 0)
        results = []
        for program, period in periods:
            results.append(await check_program_period(conn, program, period))
            if on_result:
                on_result(results[-1], total)
    finally:
        await conn.close()
    if pgh_duplicates:
        from rnu.integrity.pgh_duplicates import check_pgh_duplicates

        results.append(await check_pgh_duplicates(database_url))
        if on_result:
            on_result(results[-1], total)
    return results


async def open_flags_by_kind(database_url: str) -> dict[str, int]:
    """How many open flags of each kind the registry holds (what the checks found)."""
    conn = await connect_raw(database_url)
    try:
        rows = await conn.fetch(
            "SELECT kind, count(*) AS n FROM flag WHERE status = 'open' GROUP BY kind ORDER BY kind"
        )
    finally:
        await conn.close()
    return {str(r["kind"]): int(r["n"]) for r in rows}


def summary(results: list[CheckResult]) -> Counter[str]:
    """Findings by kind over several runs."""
    total: Counter[str] = Counter()
    for r in results:
        total.update(r.found)
    return total
