"""Outside lists: read one through a mapping, cross-check it against the rolls, link two lists.

The mapping-driven loader lives in `loaders/`, above `rnu`: callers hand one in
(`usecases.lists.read_list`), typed by the `Loader` protocol.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rnu.db import connect_raw
from rnu.eligibility.evaluate import rule_in_force
from rnu.eligibility.rules import load_programs
from rnu.errors import InvalidInput
from rnu.ingest.matcher import context_for, to_record
from rnu.ingest.rows import CanonicalRow, Loader, Reject
from rnu.integrity import checks
from rnu.integrity.repository import loaded_periods, write_flags
from rnu.integrity.service import ALL_KINDS
from rnu.matching.lists import link_lists
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import FIELD_NAMES

_KIND = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def read_rows(path: Path, loader: Loader[CanonicalRow]) -> tuple[list[CanonicalRow], int]:
    """The list's readable rows and how many were rejected (`loader` reads its layout)."""
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    rows: list[CanonicalRow] = []
    rejected = 0
    with path.open("rb") as stream:
        for item in loader.rows(stream):
            if isinstance(item, Reject):
                rejected += 1
            else:
                rows.append(item)
    return rows, rejected


@dataclass
class CrosscheckResult:
    """What a cross-check found: list rows matched, and flags by program and period."""

    kind: str
    rows: int
    rejected: int
    matched: int
    flags: dict[tuple[str, str], int] = field(default_factory=dict)
    seconds: float = 0.0


def check_kind(kind: str) -> str:
    if not _KIND.match(kind) or kind in ALL_KINDS or kind == "pgh_duplicate":
        raise InvalidInput(
            f"--kind {kind!r}: use a lowercase name of your own (e.g. prisoner, pensioner), "
            "not one of the built-in kinds"
        )
    return kind


_STAGE = """
CREATE TEMP TABLE xl (person_key text, doc_number text, list_row text, method text,
                      weight float8, agreements jsonb) ON COMMIT DROP
"""
# $1 kind, $2 list file name, $3 program, $4 period.
_FLAG_FORBIDDEN = """
INSERT INTO chk_flag
WITH hit AS (
  SELECT p.id AS person_id, xl.* FROM xl JOIN person p ON p.pgh_key = xl.person_key
  UNION ALL
  SELECT p.id, xl.* FROM xl JOIN person p ON xl.person_key IS NULL AND NOT p.in_pgh
    AND p.doc_type IN ('DNI', 'CUI') AND p.doc_number = xl.doc_number
)
SELECT DISTINCT ON (e.person_id) $1, 'high', 'person:' || e.person_id, e.person_id,
  m.household_id, e.roll_row_id, e.ubigeo,
  jsonb_build_object('rule', 'forbidden_list', 'code', $1::text,
    'facts', jsonb_build_object('list', $2::text, 'list_row', hit.list_row,
      'method', hit.method, 'weight', round(hit.weight::numeric, 2),
      'agreements', hit.agreements))
FROM hit
JOIN enrollment e ON e.person_id = hit.person_id AND e.program_code = $3 AND e.period = $4
LEFT JOIN household_member m ON m.person_id = e.person_id
ORDER BY e.person_id, hit.weight DESC
"""


async def crosscheck(
    database_url: str,
    rows: list[CanonicalRow],
    *,
    kind: str,
    list_name: str,
    rejected: int = 0,
    periods: Iterable[str] | None = None,
) -> CrosscheckResult:
    """Match an outside list against the PGH and flag the enrollments whose rules forbid it.

    Rows the engine links name a PGH person; the others can still be people outside the PGH
    holding the same DNI on a roll. Only programs whose rule in force in the period lists
    `kind` in `forbidden_lists` are flagged.
    """
    check_kind(kind)
    started = time.perf_counter()
    result = CrosscheckResult(kind, len(rows), rejected, 0)
    records = [to_record(r, r.row_number) for r in rows]
    programs = load_programs()
    conn = await connect_raw(database_url)
    try:
        context = await context_for(database_url, conn)
        matches = context.matcher_for(records).match_many(records) if records else []
        staged: list[tuple[str | None, str | None, str, str, float, str]] = []
        for row, match in zip(rows, matches, strict=True):
            if match.outcome == "linked":
                result.matched += 1
                staged.append(
                    (match.person_key, row.doc_number, row.row_number, match.method,
                     match.weight, json.dumps(match.agreements))
                )  # fmt: skip
            elif row.doc_number and row.doc_type in (None, "DNI", "CUI"):
                staged.append(
                    (None, row.doc_number, row.row_number, "document_outside_pgh", 0.0, "{}")
                )
        wanted = set(periods) if periods is not None else None
        for code, period in await loaded_periods(conn):
            if wanted is not None and period not in wanted:
                continue
            try:
                rule = rule_in_force(programs[code], period)
            except (LookupError, ValueError):
                continue
            if kind not in rule.forbidden_lists:
                continue
            async with conn.transaction():
                await conn.execute(checks.DROP_STAGING)
                await conn.execute(checks.CREATE_FLAG_STAGING)
                await conn.execute("DROP TABLE IF EXISTS xl")
                await conn.execute(_STAGE)
                await conn.copy_records_to_table(
                    "xl",
                    records=staged,
                    columns=("person_key", "doc_number", "list_row", "method", "weight",
                             "agreements"),
                )  # fmt: skip
                await conn.execute(_FLAG_FORBIDDEN, kind, list_name, code, period)
                count = await conn.fetchval("SELECT count(*) FROM chk_flag")
                await write_flags(conn, program=code, period=period, kinds=[kind])
                await conn.execute(checks.DROP_STAGING)
            result.flags[(code, period)] = int(count)
    finally:
        await conn.close()
    result.seconds = time.perf_counter() - started
    return result


def records_of(rows: Iterable[CanonicalRow]) -> list[PersonRecord]:
    """A list's rows as person records keyed by their row number."""
    return [to_record(r, r.row_number) for r in rows]


def link_to_csv(
    left: list[PersonRecord], right: list[PersonRecord] | None, out: Path
) -> Iterator[int]:
    """Write `left_id,right_id,weight,outcome` plus one column per field agreement.

    Yields the running count of pairs written (for progress), pairs streamed to the file.
    """
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["left_id", "right_id", "weight", "outcome", *FIELD_NAMES])
        n = 0
        for pair in link_lists(left, right):
            writer.writerow(
                [
                    pair.left_id,
                    pair.right_id,
                    f"{pair.weight:.2f}",
                    pair.outcome,
                    *(pair.agreements.get(f, "") for f in FIELD_NAMES),
                ]
            )
            n += 1
            if n % 10_000 == 0:
                yield n
        yield n
