"""The README's backup and restore commands, run against a PostgreSQL of this test's own.

`pg_dump -Fc` of a migrated, seeded database; `pg_restore --clean --if-exists --no-owner
--single-transaction` into a database that already holds other data (as a restore over a live
one would); every table's row count must match the original.
"""

from __future__ import annotations

import asyncio
import subprocess
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import plain_url
from rnu.migrate import upgrade
from tests.factories import create_batch, create_enrollment, create_household, create_person
from tests.ops.conftest import OwnPostgres

pytestmark = pytest.mark.slow


def pg_bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / name)


def migrate(url: str) -> None:
    upgrade(url)
    from rnu.program.service import sync_programs_sync
    from rnu.ubigeo.service import load_reference_sync

    load_reference_sync(url)
    sync_programs_sync(url)


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        return {
            t["tablename"]: int(await conn.fetchval(f'SELECT count(*) FROM "{t["tablename"]}"'))
            for t in tables
        }
    finally:
        await conn.close()


async def seed(url: str, people: int) -> None:
    engine = make_engine(url, pool_size=1, role="seed")
    async with make_sessionmaker(engine)() as session:
        batch = await create_batch(session, source="JUNTOS", period="2026-10")
        for i in range(people):
            household = await create_household(session)
            person = await create_person(
                session,
                household=household,
                doc_number=f"{52_000_000 + i:08d}",
                birth_on=date(1990, 1, 1 + i % 28),
            )
            await create_enrollment(session, person=person, batch=batch)
        await session.commit()
    await engine.dispose()


class TestBackupRestore:
    def test_dump_and_restore_give_the_same_rows(
        self, own_postgres: OwnPostgres, tmp_path: Path
    ) -> None:
        source = own_postgres.create_database("backup_source")
        migrate(source)
        asyncio.run(seed(source, 25))
        target = own_postgres.create_database("backup_target")
        migrate(target)
        asyncio.run(seed(target, 3))  # a live database being restored over

        socket_dir = str(own_postgres.pgdata)
        dump = tmp_path / "rnu.dump"
        with dump.open("wb") as out:
            subprocess.run(
                [
                    pg_bin("pg_dump"),
                    "-h",
                    socket_dir,
                    "-U",
                    "postgres",
                    "-d",
                    "backup_source",
                    "-Fc",
                ],
                stdout=out,
                check=True,
            )
        with dump.open("rb") as inp:
            subprocess.run(
                [
                    pg_bin("pg_restore"),
                    "-h",
                    socket_dir,
                    "-U",
                    "postgres",
                    "-d",
                    "backup_target",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                ],
                stdin=inp,
                check=True,
            )
        expected = asyncio.run(counts(source))
        assert expected["person"] == 25
        assert asyncio.run(counts(target)) == expected
