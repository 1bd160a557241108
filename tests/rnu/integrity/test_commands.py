"""The integrity commands end to end on their own database (synchronous: typer runs asyncio)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import typer
from typer.testing import CliRunner

from cli.integrity import register
from rnu.embedded import plain_url
from tests.rnu.integrity.conftest import DATA_TABLES

SETUP = """
WITH b AS (INSERT INTO load_batch (source, period, file_name, sha256, status)
           VALUES ('PENSION65', '2026-10', 'pension65_202610.xlsx', repeat('a', 64), 'committed')
           RETURNING id),
h AS (INSERT INTO household (pgh_code, ubigeo, area, cse, cse_valid_from, cse_valid_to)
      VALUES ('H1', '150101', 'U', 'P', '2024-08-12', '2026-08-12') RETURNING id),
p AS (INSERT INTO person (pgh_key, in_pgh, doc_type, doc_number, nombres, apellido_paterno,
                          birth_on, sex, ubigeo)
      VALUES ('H1-1', true, 'DNI', '01234567', 'ROSA', 'QUISPE', '1950-01-01', 'F', '150101')
      RETURNING id),
m AS (INSERT INTO household_member (person_id, household_id, member_number)
      SELECT p.id, h.id, 1 FROM p, h),
r AS (INSERT INTO roll_row (batch_id, row_number, person_id, outcome, full_name)
      SELECT b.id, '7', p.id, 'linked', 'ROSA QUISPE' FROM b, p RETURNING id, batch_id, person_id)
INSERT INTO enrollment (person_id, program_code, period, batch_id, roll_row_id, match_method)
SELECT r.person_id, 'PENSION65', '2026-10', r.batch_id, r.id, 'exact_document' FROM r
"""


async def _sql(url: str, sql: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def cli(integrity_url: str) -> Iterator[typer.Typer]:
    asyncio.run(_sql(integrity_url, SETUP))
    app = typer.Typer()
    register(app, lambda: integrity_url)
    yield app
    asyncio.run(_sql(integrity_url, f"TRUNCATE {', '.join(DATA_TABLES)} CASCADE"))


class TestCommands:
    def test_explain_in_spanish_with_masked_dni(self, cli: typer.Typer) -> None:
        result = CliRunner().invoke(cli, ["explain", "01234567", "pension65", "2026-10"])
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert "01234567" not in text
        assert "*****567" in text
        assert (
            "Pensión 65 requiere CSE pobre extremo; su hogar tiene CSE pobre, vigente del "
            "12/08/2024 al 12/08/2026." in text
        )
        assert "No cumple las reglas de Pensión 65 para el periodo 2026-10" in text

    def test_check_then_export(self, cli: typer.Typer, tmp_path: Path) -> None:
        runner = CliRunner()
        checked = runner.invoke(cli, ["check", "--program", "PENSION65", "--period", "2026-10"])
        assert checked.exit_code == 0, checked.output
        out = tmp_path / "flags.csv"
        exported = runner.invoke(cli, ["flags", "export", "--out", str(out)])
        assert exported.exit_code == 0, exported.output
        assert out.read_text(encoding="utf-8").splitlines() == [
            "kind,program,period,person_key,file,row_number,status,verification",
            "cse_not_qualifying,PENSION65,2026-10,H1-1,pension65_202610.xlsx,7,open,verified",
        ]

    def test_check_all_shows_progress_and_what_it_did(self, cli: typer.Typer) -> None:
        """Issue 13 item 11: one line per program period as it ends, then the changes."""
        result = CliRunner().invoke(cli, ["check", "--all", "--no-pgh-duplicates"])
        assert result.exit_code == 0, result.output
        assert "[1/1] PENSION65 2026-10: 1 findings" in result.output
        assert "new flags" in result.output
        assert "resolved" in result.output

    def test_check_needs_a_target(self, cli: typer.Typer) -> None:
        result = CliRunner().invoke(cli, ["check"])
        assert result.exit_code != 0
