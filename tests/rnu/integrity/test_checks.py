from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.eligibility import service as eligibility_service
from rnu.embedded import plain_url
from rnu.errors import NotFound
from rnu.integrity.service import check_batch, check_program_period
from rnu.person.models import DeathRecord, Household, Person
from tests.factories import (
    create_batch,
    create_enrollment,
    create_household,
    create_person,
    create_roll_row,
)

PERIOD = "2026-10"


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def flags(url: str, status: str | None = "open") -> set[tuple[str, str | None, int]]:
    rows = await fetch(
        url,
        "SELECT kind, program_code, person_id FROM flag WHERE $1::text IS NULL OR status = $1",
        status,
    )
    return {(r[0], r[1], r[2]) for r in rows}


async def person_in(
    db: AsyncSession, *, hh: dict[str, Any] | None = None, **person: Any
) -> tuple[Person, Household]:
    household = await create_household(db, **(hh or {"cse": "PE"}))
    return await create_person(db, household=household, **person), household


class Country:
    """A Pensión 65 roll for 2026-10 with one person per case, and a Contigo roll."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}

    async def build(self, db: AsyncSession) -> int:
        old = {"birth_on": date(1950, 3, 3)}
        p65 = await create_batch(db, source="PENSION65", period=PERIOD)
        contigo = await create_batch(db, source="CONTIGO", period=PERIOD)
        cases: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
            "ok": ({"cse": "PE"}, old),
            "cse_not_qualifying": ({"cse": "P"}, old),
            "cse_expired": ({"cse": "PE", "cse_valid_to": date(2026, 9, 30)}, old),
            "cse_missing": ({"cse": None, "cse_valid_from": None, "cse_valid_to": None}, old),
            "age_out_of_range": ({"cse": "PE"}, {"birth_on": date(1961, 10, 2)}),
            "deceased": ({"cse": "PE"}, {**old, "death_on": date(2026, 9, 30)}),
            "died_last_day": ({"cse": "PE"}, {**old, "death_on": date(2026, 10, 31)}),
            "incompatible_programs": ({"cse": "PE"}, old),
        }
        for name, (hh, person) in cases.items():
            self.people[name], _ = await person_in(db, hh=hh, **person)
            await create_enrollment(db, person=self.people[name], batch=p65)
        stranger = await create_person(db, in_pgh=False, birth_on=date(1950, 1, 1))
        self.people["not_in_pgh"] = stranger
        await create_enrollment(db, person=stranger, batch=p65)
        await create_enrollment(db, person=self.people["incompatible_programs"], batch=contigo)
        await db.commit()
        assert p65.id is not None
        return p65.id


EXPECTED = {
    "cse_not_qualifying",
    "cse_expired",
    "cse_missing",
    "age_out_of_range",
    "deceased",
    "not_in_pgh",
    "incompatible_programs",
}


class TestRuleChecks:
    async def test_a_batch_that_does_not_exist_is_not_found(self, integrity_url: str) -> None:
        """`rnu check --batch 999` said "0 runs"; a missing batch is told from an idle one."""
        with pytest.raises(NotFound, match="there is no batch 999999999"):
            await check_batch(integrity_url, 999_999_999)

    async def test_each_kind_once_on_the_right_person(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        country = Country()
        batch_id = await country.build(db)
        await check_batch(integrity_url, batch_id)
        found = await flags(integrity_url)
        expected = {(k, "PENSION65", country.people[k].id) for k in EXPECTED}
        expected.add(
            ("incompatible_programs", "CONTIGO", country.people["incompatible_programs"].id)
        )
        assert found == expected

    async def test_sql_agrees_with_the_explained_trace(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        country = Country()
        batch_id = await country.build(db)
        await check_batch(integrity_url, batch_id)
        rows = await fetch(
            integrity_url,
            "SELECT person_id, kind, evidence FROM flag WHERE program_code = 'PENSION65'",
        )
        by_person: dict[int, dict[str, Any]] = {}
        for r in rows:
            by_person.setdefault(r[0], {})[r[1]] = json.loads(r[2])
        for person in country.people.values():
            assert person.id is not None
            trace = await eligibility_service.explain(
                db, person_id=person.id, program_code="PENSION65", period=PERIOD
            )
            flagged = by_person.get(person.id, {})
            assert sorted(flagged) == sorted(trace.kinds)
            for check in trace.checks:
                if check.passed is False:
                    assert flagged[check.code]["facts"] == check.facts
                    assert flagged[check.code]["rule"] == check.rule

    async def test_rerun_is_idempotent(self, db: AsyncSession, integrity_url: str) -> None:
        batch_id = await Country().build(db)
        first = await check_batch(integrity_url, batch_id)
        before = await fetch(integrity_url, "SELECT id, evidence_hash, updated_at FROM flag")
        second = await check_batch(integrity_url, batch_id)
        after = await fetch(integrity_url, "SELECT id, evidence_hash, updated_at FROM flag")
        assert first[0].inserted == 7
        assert (second[0].inserted, second[0].updated, second[0].resolved) == (0, 0, 0)
        assert sorted(map(tuple, before)) == sorted(map(tuple, after))

    async def test_dismissed_stays_dismissed_until_evidence_changes(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        country = Country()
        batch_id = await country.build(db)
        await check_batch(integrity_url, batch_id)
        person = country.people["cse_expired"]
        await fetch(
            integrity_url,
            "UPDATE flag SET status = 'dismissed', dismissed_reason = 'renovó su CSE' "
            "WHERE person_id = $1",
            person.id,
        )
        await check_batch(integrity_url, batch_id)
        assert ("cse_expired", "PENSION65", person.id) in await flags(integrity_url, "dismissed")
        # The PGH sends a new window, still expired: new evidence, so it reopens.
        await fetch(
            integrity_url,
            "UPDATE household h SET cse_valid_to = '2026-08-31' FROM household_member m "
            "WHERE m.household_id = h.id AND m.person_id = $1",
            person.id,
        )
        await check_batch(integrity_url, batch_id)
        assert ("cse_expired", "PENSION65", person.id) in await flags(integrity_url, "open")
        reason = await fetch(
            integrity_url, "SELECT dismissed_reason FROM flag WHERE person_id = $1", person.id
        )
        assert reason[0][0] is None

    async def test_fixed_facts_resolve_and_return_reopens(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        country = Country()
        batch_id = await country.build(db)
        await check_batch(integrity_url, batch_id)
        person = country.people["cse_not_qualifying"]
        set_cse = (
            "UPDATE household h SET cse = $2 FROM household_member m "
            "WHERE m.household_id = h.id AND m.person_id = $1"
        )
        await fetch(integrity_url, set_cse, person.id, "PE")
        result = await check_batch(integrity_url, batch_id)
        assert result[0].resolved == 1
        assert ("cse_not_qualifying", "PENSION65", person.id) in await flags(
            integrity_url, "resolved"
        )
        await fetch(integrity_url, set_cse, person.id, "P")
        await check_batch(integrity_url, batch_id)
        assert ("cse_not_qualifying", "PENSION65", person.id) in await flags(integrity_url)


class TestHouseholdPrograms:
    async def test_juntos_needs_a_minor_and_one_titular(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch = await create_batch(db, source="JUNTOS", period=PERIOD)
        with_child = await create_household(db, cse="P")
        mother = await create_person(db, household=with_child, birth_on=date(1985, 1, 1))
        father = await create_person(db, household=with_child, birth_on=date(1983, 1, 1))
        await create_person(db, household=with_child, birth_on=date(2007, 10, 2))  # 18
        adults_only = await create_household(db, cse="P")
        alone = await create_person(db, household=adults_only, birth_on=date(1970, 1, 1))
        await create_person(db, household=adults_only, birth_on=date(2007, 10, 1))  # 19
        for titular in (mother, father, alone):
            await create_enrollment(db, person=titular, batch=batch)
        await db.commit()
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        assert await flags(integrity_url) == {
            ("household_twice", "JUNTOS", mother.id),
            ("household_twice", "JUNTOS", father.id),
            ("age_out_of_range", "JUNTOS", alone.id),
        }


class TestDuplicates:
    async def test_same_person_twice_in_one_file(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch = await create_batch(db, source="SIS", period=PERIOD)
        person, _ = await person_in(db, hh={"cse": "P"})
        enrollment = await create_enrollment(db, person=person, batch=batch)
        # The same person again under another DNI, which matching still linked to them.
        await create_roll_row(db, batch=batch, person=person, doc_number="99999999")
        # A no-document row of another person, left unmatched: a typo in the given names.
        other, _ = await person_in(
            db, hh={"cse": "P"}, nombres="JUAN CARLOS", birth_on=date(1990, 2, 2)
        )
        await create_enrollment(db, person=other, batch=batch)
        twin = await create_person(
            db, in_pgh=False, doc_type=None, doc_number=None, nombres="JUAN CARLSO",
            apellido_paterno=other.apellido_paterno, apellido_materno=other.apellido_materno,
            birth_on=date(1990, 2, 2),
        )  # fmt: skip
        twin_row = await create_roll_row(
            db, batch=batch, outcome="unmatched", method="none", person_id=twin.id,
            nombres="JUAN CARLSO", apellido_paterno=other.apellido_paterno,
            apellido_materno=other.apellido_materno, birth_on=date(1990, 2, 2),
        )  # fmt: skip
        await create_enrollment(db, person=twin, batch=batch, roll_row=twin_row)
        # A sibling born the same day (a twin): other given names, not a duplicate.
        sibling = await create_person(
            db, in_pgh=False, doc_type=None, doc_number=None, nombres="MARIA ELENA",
            apellido_paterno=other.apellido_paterno, birth_on=date(1990, 2, 2),
        )  # fmt: skip
        sibling_row = await create_roll_row(
            db, batch=batch, outcome="unmatched", method="none", person_id=sibling.id,
            nombres="MARIA ELENA", apellido_paterno=other.apellido_paterno,
            birth_on=date(1990, 2, 2),
        )  # fmt: skip
        await create_enrollment(db, person=sibling, batch=batch, roll_row=sibling_row)
        # The same names and day, but both rows state a sex and they differ: not a duplicate.
        brother = await create_person(
            db, in_pgh=False, doc_type=None, doc_number=None, nombres="JUAN CARLOS",
            apellido_paterno=other.apellido_paterno, apellido_materno=other.apellido_materno,
            birth_on=date(1990, 2, 2), sex="M",
        )  # fmt: skip
        brother_row = await create_roll_row(
            db, batch=batch, outcome="unmatched", method="none", person_id=brother.id,
            nombres="JUAN CARLOS", apellido_paterno=other.apellido_paterno,
            apellido_materno=other.apellido_materno, birth_on=date(1990, 2, 2), sex="M",
        )  # fmt: skip
        await create_enrollment(db, person=brother, batch=batch, roll_row=brother_row)
        await db.commit()
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        rows = await fetch(
            integrity_url,
            "SELECT f.kind, f.person_id, r.row_number FROM flag f "
            "JOIN roll_row r ON r.id = f.roll_row_id ORDER BY r.row_number",
        )
        found = {(r[0], r[1]) for r in rows}
        assert found == {
            ("duplicate_in_program", person.id),
            ("duplicate_in_program", other.id),
            ("not_in_pgh", sibling.id),
            ("not_in_pgh", brother.id),
        }
        assert len([r for r in rows if r[0] == "duplicate_in_program"]) == 4
        assert enrollment.roll_row_id in {
            r["id"] for r in await fetch(integrity_url, "SELECT roll_row_id AS id FROM flag")
        }


class TestDeaths:
    async def test_deaths_batch_rechecks_the_programs_of_the_dead(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        batch = await create_batch(db, source="SIS", period=PERIOD)
        person, _ = await person_in(db, hh={"cse": "P"}, doc_number="01234567")
        await create_enrollment(db, person=person, batch=batch)
        await db.commit()
        assert batch.id is not None
        await check_batch(integrity_url, batch.id)
        assert await flags(integrity_url) == set()
        deaths = await create_batch(db, source="DEATHS", period=PERIOD, file_name="d.csv")
        assert deaths.id is not None
        db.add(
            DeathRecord(
                batch_id=deaths.id, row_number="1", dni="01234567", death_on=date(2026, 8, 1)
            )
        )
        person.death_on = date(2026, 8, 1)
        db.add(person)
        await db.commit()
        results = await check_batch(integrity_url, deaths.id)
        assert [(r.program, r.period) for r in results] == [("SIS", PERIOD)]
        assert await flags(integrity_url) == {("deceased", "SIS", person.id)}


class TestRuleVersions:
    async def test_past_period_judged_by_its_rule(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        expired = {
            "cse": "PE",
            "cse_valid_from": date(2010, 1, 1),
            "cse_valid_to": date(2012, 1, 1),
        }
        person, _ = await person_in(db, hh=expired, birth_on=date(1940, 1, 1))
        for period in ("2018-06", "2019-06"):
            batch = await create_batch(db, source="PENSION65", period=period)
            await create_enrollment(db, person=person, batch=batch)
        await db.commit()
        conn = await asyncpg.connect(plain_url(integrity_url))
        try:
            old = await check_program_period(conn, "PENSION65", "2018-06")
            new = await check_program_period(conn, "PENSION65", "2019-06")
        finally:
            await conn.close()
        assert (old.found, new.found) == ({}, {"cse_expired": 1})


class TestSubcobertura:
    async def test_eligible_not_enrolled_per_district(
        self, db: AsyncSession, integrity_url: str
    ) -> None:
        from rnu.integrity.coverage import coverage_gaps

        batch = await create_batch(db, source="PENSION65", period=PERIOD)
        lima = {"cse": "PE", "ubigeo": "150101"}
        enrolled, _ = await person_in(db, hh=lima, birth_on=date(1950, 1, 1))
        await person_in(db, hh=lima, birth_on=date(1955, 1, 1))  # eligible, not enrolled
        await person_in(db, hh=lima, birth_on=date(1970, 1, 1))  # too young
        await person_in(db, hh={**lima, "cse": "P"}, birth_on=date(1950, 1, 1))  # not PE
        await person_in(db, hh={"cse": "PE"}, birth_on=date(1950, 1, 1), ubigeo="080101")
        await create_enrollment(db, person=enrolled, batch=batch)
        await db.commit()
        conn = await asyncpg.connect(plain_url(integrity_url))
        try:
            gaps = await coverage_gaps(conn, program_code="PENSION65", period=PERIOD)
            contigo = await coverage_gaps(conn, program_code="CONTIGO", period=PERIOD)
        finally:
            await conn.close()
        assert gaps is not None
        assert [(g.ubigeo, g.eligible, g.enrolled, g.not_enrolled) for g in gaps] == [
            ("080101", 1, 0, 1),
            ("150101", 2, 1, 1),
        ]
        assert gaps[1].rate == 0.5
        assert contigo is None  # disability is not in the PGH: not measurable here
