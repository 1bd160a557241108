"""Flags' references are checked once per run (flag has no per-row foreign keys)."""

from __future__ import annotations

import pytest

from rnu.db import connect_raw
from rnu.ingest.references import DanglingReference
from rnu.integrity import checks
from rnu.integrity.repository import write_flags

_STAGE = "INSERT INTO chk_flag VALUES ('deceased', 'high', 'person:1', $1, $2, $3, NULL, '{}')"


@pytest.mark.parametrize(
    ("person", "household", "row", "program", "kind"),
    [
        (2_000_000_000, None, None, "SIS", "flag_person 1"),
        (None, 2_000_000_000, None, "SIS", "flag_household 1"),
        (None, None, 2_000_000_000, "SIS", "flag_row 1"),
        (None, None, None, "NOPE", "flag_program 1"),
    ],
)
async def test_a_dangling_reference_aborts_the_run(
    integrity_url: str,
    person: int | None,
    household: int | None,
    row: int | None,
    program: str,
    kind: str,
) -> None:
    conn = await connect_raw(integrity_url)
    try:
        async with conn.transaction():
            await conn.execute(checks.CREATE_FLAG_STAGING)
            await conn.execute(_STAGE, person, household, row)
            with pytest.raises(DanglingReference, match=kind):
                await write_flags(conn, program=program, period="2026-10", kinds=["deceased"])
            await conn.execute("DROP TABLE chk_flag")
        assert await conn.fetchval("SELECT count(*) FROM flag") == 0
    finally:
        await conn.close()


async def test_a_run_without_dangling_references_writes_its_flags(integrity_url: str) -> None:
    conn = await connect_raw(integrity_url)
    try:
        async with conn.transaction():
            await conn.execute(checks.CREATE_FLAG_STAGING)
            await conn.execute(_STAGE, None, None, None)
            written = await write_flags(conn, program="SIS", period="2026-10", kinds=["deceased"])
            assert written == (1, 0, 0)
            await conn.execute("DELETE FROM flag")
    finally:
        await conn.close()
