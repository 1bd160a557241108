from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.errors import InvalidInput
from rnu.integrity.export import HEADER, export_flags
from rnu.integrity.lists import check_kind, crosscheck, link_to_csv, records_of
from rnu.integrity.service import check_batch
from tests.factories import create_batch, create_enrollment, create_household, create_person
from usecases.lists import read_list

ROOT = Path(__file__).resolve().parents[3]
INPE_MAP = ROOT / "loaders" / "mappings" / "example_inpe.toml"
PERIOD = "2026-10"


def write_inpe(path: Path, lines: list[str]) -> Path:
    header = "ESTABLECIMIENTO,DNI,APELLIDOS Y NOMBRES,FECHA_NAC,SITUACION_JURIDICA"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


class TestFlagsExport:
    async def test_open_flags_with_their_row(
        self, db: AsyncSession, integrity_url: str, tmp_path: Path
    ) -> None:
        batch = await create_batch(db, source="PENSION65", period=PERIOD, file_name="p65.xlsx")
        household = await create_household(db, cse="P")
        person = await create_person(db, household=household, birth_on=date(1950, 1, 1))
        enrollment = await create_enrollment(db, person=person, batch=batch)
        await db.commit()
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        n = await export_flags(integrity_url, tmp_path / "flags.csv")
        with (tmp_path / "flags.csv").open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        row_number = await _row_number(db, enrollment.roll_row_id)
        assert n == 1
        assert rows == [
            HEADER,
            [
                "cse_not_qualifying",
                "PENSION65",
                PERIOD,
                person.pgh_key,
                "p65.xlsx",
                row_number,
                "open",
                "verified",
            ],
        ]


async def _row_number(db: AsyncSession, roll_row_id: int) -> str:
    from rnu.enrollment.models import RollRow

    row = await db.get(RollRow, roll_row_id)
    assert row is not None
    return row.row_number


class TestCrosscheck:
    async def test_prisoner_flags_only_programs_that_forbid_it(
        self, db: AsyncSession, integrity_url: str, tmp_path: Path
    ) -> None:
        await create_batch(db, source="PGH", period=PERIOD)  # a new PGH version: fresh index
        p65 = await create_batch(db, source="PENSION65", period=PERIOD)
        sis = await create_batch(db, source="SIS", period=PERIOD)
        household = await create_household(db, cse="PE")
        person = await create_person(
            db,
            household=household,
            doc_number="12345678",
            nombres="JUAN CARLOS",
            apellido_paterno="QUISPE",
            apellido_materno="MAMANI",
            birth_on=date(1950, 1, 2),
            sex="M",
        )
        for i in range(30):  # a PGH to match against, not just one person
            await create_person(
                db,
                household=household,
                nombres=f"PERSONA {i}",
                apellido_paterno="HUAMAN",
                birth_on=date(1960, 1, 1 + i % 28),
            )
        await create_enrollment(db, person=person, batch=p65)
        await create_enrollment(db, person=person, batch=sis)
        await db.commit()
        listed = write_inpe(
            tmp_path / "inpe.csv",
            [
                'E.P. LURIGANCHO,12345678,"QUISPE MAMANI, JUAN CARLOS",1950-01-02,PROCESADO',
                'E.P. CHORRILLOS,87654321,"ROJAS PEREZ, ANA",1970-05-05,SENTENCIADO',
            ],
        )
        rows, rejected = read_list(listed, INPE_MAP)
        result = await crosscheck(
            integrity_url, rows, kind="prisoner", list_name="inpe.csv", rejected=rejected
        )
        assert (result.rows, result.matched) == (2, 1)
        assert result.flags == {("PENSION65", PERIOD): 1}
        again = await crosscheck(integrity_url, rows, kind="prisoner", list_name="inpe.csv")
        assert again.flags == {("PENSION65", PERIOD): 1}

    @pytest.mark.parametrize("kind", ["deceased", "pgh_duplicate", "Prisoner", "x"])
    def test_kind_must_be_new_and_plain(self, kind: str) -> None:
        with pytest.raises(InvalidInput):
            check_kind(kind)


class TestMatchLists:
    def test_dedupe_one_list(self, tmp_path: Path) -> None:
        surnames = ["QUISPE", "HUAMAN", "ROJAS", "FLORES", "CHAVEZ", "TORRES", "RAMOS", "VARGAS"]
        given = ["ROSA", "JUAN", "LUIS", "CARMEN", "PEDRO"]
        lines = [
            f'E.P. X,{40000000 + 7919 * i},"{surnames[i % 8]} {surnames[(i * 3 + 1) % 8]}, '
            f'{given[i % 5]}",{1950 + i}-0{1 + i % 9}-{1 + i % 28:02d},P'
            for i in range(40)
        ]
        lines.append(lines[3].replace("40023757", "").replace("ROJAS", "ROJAZ"))  # row 41
        rows, _ = read_list(write_inpe(tmp_path / "a.csv", lines), INPE_MAP)
        out = tmp_path / "pairs.csv"
        list(link_to_csv(records_of(rows), None, out))
        with out.open(encoding="utf-8") as fh:
            pairs = [p for p in csv.DictReader(fh) if p["outcome"] == "linked"]
        assert [(p["left_id"], p["right_id"]) for p in pairs] == [("4", "41")]
        assert (pairs[0]["nombres"], pairs[0]["birth_date"]) == ("exact", "exact")
