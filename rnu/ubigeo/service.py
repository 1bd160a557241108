"""Keep the ubigeo table in step with the packaged reference list."""

from __future__ import annotations

import asyncio

from rnu.db import connect_raw
from rnu.ubigeo.reference import districts, fold


async def load_reference(database_url: str) -> int:
    """Upsert every district of the reference list; returns how many there are."""
    rows = [
        (
            d.inei,
            d.reniec,
            d.departamento,
            d.provincia,
            d.distrito,
            "|".join(fold(x) for x in (d.departamento, d.provincia, d.distrito)),
        )
        for d in districts()
    ]
    conn = await connect_raw(database_url)
    try:
        async with conn.transaction():
            await conn.executemany(
                """
                INSERT INTO ubigeo (inei, reniec, departamento, provincia, distrito, name_key)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (inei) DO UPDATE SET
                  reniec = EXCLUDED.reniec, departamento = EXCLUDED.departamento,
                  provincia = EXCLUDED.provincia, distrito = EXCLUDED.distrito,
                  name_key = EXCLUDED.name_key
                """,
                rows,
            )
    finally:
        await conn.close()
    return len(rows)


def load_reference_sync(database_url: str) -> int:
    return asyncio.run(load_reference(database_url))
