"""PGH duplicates: two PGH person records that are probably one person (fuzzy self-dedupe).

The PGH is deduplicated with the matching engine: every blocked pair within it is scored
once (Fellegi–Sunter weights, model fitted by EM on the PGH itself) and the links are
clustered. Two different valid DNIs, birth dates years apart or given names that name
someone else are contradictions the engine does not link across, so twins, a father and
son of one name, and namesakes are not flagged; nor are two members of one household (one
interview listed them both), whose pairs stay in review at most. Every linked pair becomes one
`pgh_duplicate` flag whose evidence is the match explanation (weight, field agreements,
the cluster it belongs to).
"""

from __future__ import annotations

import json
import time

import asyncpg

from rnu.db import connect_raw
from rnu.integrity.repository import write_flags
from rnu.integrity.service import CheckResult
from rnu.matching.lists import ListError, PairResult, match_lists
from rnu.matching.records import PersonRecord

KIND = "pgh_duplicate"


async def _pgh_records(
    conn: asyncpg.Connection,
) -> tuple[list[PersonRecord], dict[str, tuple[int, str | None]], dict[str, int]]:
    """The PGH's people as match records, their (id, ubigeo) and their household."""
    records: list[PersonRecord] = []
    ids: dict[str, tuple[int, str | None]] = {}
    households: dict[str, int] = {}
    async with conn.transaction():
        cursor = conn.cursor(
            """
            SELECT p.id, p.pgh_key, p.doc_type, p.doc_number, p.nombres, p.apellido_paterno,
                   p.apellido_materno, p.birth_on, p.sex, p.ubigeo, hm.household_id
            FROM person p LEFT JOIN household_member hm ON hm.person_id = p.id
            WHERE p.in_pgh ORDER BY p.id
            """,
            prefetch=20_000,
        )
        async for r in cursor:
            ids[r[1]] = (r[0], r[9])
            if r[10] is not None:
                households[r[1]] = r[10]
            records.append(
                PersonRecord(
                    key=r[1],
                    doc_type=r[2],
                    doc_number=r[3],
                    doc_trusted=True,
                    nombres=r[4],
                    apellido_paterno=r[5],
                    apellido_materno=r[6],
                    birth_date=r[7],
                    sex=r[8],
                    ubigeo=r[9],
                )
            )
    return records, ids, households


async def check_pgh_duplicates(database_url: str, *, include_review: bool = False) -> CheckResult:
    """Flag every pair of PGH people the engine links (and review pairs when asked)."""
    started = time.perf_counter()
    result = CheckResult(None, None)
    conn = await connect_raw(database_url)
    try:
        records, ids, households = await _pgh_records(conn)
        staged = []
        pairs: list[PairResult] = []
        if len(records) > 1:
            try:
                # one household's members were listed in one interview: two of them
                # alike are twins or siblings, never one person counted twice there
                pairs = match_lists(records, None, documents_identify=True, apart=households).pairs
            except ListError:  # too few people to fit a model on: nothing to flag
                pairs = []
        for pair in pairs:
            if pair.outcome != "linked" and not include_review:
                continue
            a, b = sorted((pair.left_id, pair.right_id))
            facts = {
                "keys": [a, b],
                "outcome": pair.outcome,
                "weight": round(pair.weight, 1),
                "agreements": pair.agreements,
                "cluster": pair.cluster,
            }
            evidence = {"rule": KIND, "code": KIND, "facts": facts}
            severity = "medium" if pair.outcome == "linked" else "low"
            staged.append(
                (
                    KIND,
                    severity,
                    f"pgh:{a}|{b}",
                    ids[a][0],
                    None,
                    None,
                    ids[a][1],
                    json.dumps(evidence),
                )
            )
        async with conn.transaction():
            from rnu.integrity import checks

            await conn.execute(checks.DROP_STAGING)
            await conn.execute(checks.CREATE_FLAG_STAGING)
            if staged:
                await conn.executemany(
                    "INSERT INTO chk_flag VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)", staged
                )
            result.found = {KIND: len(staged)} if staged else {}
            result.inserted, result.updated, result.resolved = await write_flags(
                conn, program=None, period=None, kinds=[KIND]
            )
    finally:
        await conn.close()
    result.seconds = time.perf_counter() - started
    return result
