"""Keep the program table in step with the versioned rules file."""

from __future__ import annotations

import asyncio
import dataclasses
import json

from rnu.db import connect_raw
from rnu.eligibility.rules import load_programs


async def sync_programs(database_url: str) -> int:
    """Upsert every program of rules.toml, its rules stored as data; returns the count."""
    programs = load_programs()
    conn = await connect_raw(database_url)
    try:
        async with conn.transaction():
            await conn.executemany(
                """
                INSERT INTO program (code, name, sector, unit, rules)
                VALUES ($1, $2, $3, $4, $5::jsonb)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,
                  sector = EXCLUDED.sector, unit = EXCLUDED.unit, rules = EXCLUDED.rules
                """,
                [
                    (
                        p.code,
                        p.name,
                        p.sector,
                        p.unit,
                        json.dumps(
                            {"rules": [dataclasses.asdict(r) for r in p.rules]}, default=str
                        ),
                    )
                    for p in programs.values()
                ],
            )
    finally:
        await conn.close()
    return len(programs)


def sync_programs_sync(database_url: str) -> int:
    return asyncio.run(sync_programs(database_url))
