"""The PGH-duplicate check on a real database: one person registered twice in two households
is flagged; twins listed in one household, and namesakes with their own DNIs, are not."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.embedded import plain_url
from rnu.integrity.pgh_duplicates import check_pgh_duplicates
from rnu.person.models import Household, HouseholdMember, Person
from tests.rnu.matching.synthetic import make_people


async def _add(db: AsyncSession, household: Household, n: int, **values: Any) -> Person:
    assert household.id is not None
    person = Person(in_pgh=True, pgh_key=f"{household.pgh_code}-{n}", **values)
    db.add(person)
    await db.flush()
    assert person.id is not None
    db.add(HouseholdMember(person_id=person.id, household_id=household.id, member_number=n))
    return person


async def _household(db: AsyncSession, code: str) -> Household:
    household = Household(
        pgh_code=code,
        ubigeo="150101",
        area="U",
        cse="P",
        cse_valid_from=date(2025, 1, 1),
        cse_valid_to=date(2028, 1, 1),
    )
    db.add(household)
    await db.flush()
    return household


async def test_twice_in_two_households_is_flagged_twins_in_one_are_not(
    db: AsyncSession, integrity_url: str
) -> None:
    for i, rec in enumerate(make_people(1200, seed=5)):
        home = await _household(db, f"HB{i:06d}")
        await _add(db, home, 1, doc_type=rec.doc_type, doc_number=rec.doc_number,
                   nombres=rec.nombres, apellido_paterno=rec.apellido_paterno,
                   apellido_materno=rec.apellido_materno, birth_on=rec.birth_date,
                   sex=rec.sex, ubigeo=rec.ubigeo)  # fmt: skip
    first, second, twins = [await _household(db, c) for c in ("HX1", "HX2", "HX3")]
    again: dict[str, Any] = {"nombres": "JUANA CLARA", "apellido_paterno": "MINAYA",
                                "apellido_materno": "INGA", "birth_on": date(1961, 4, 9),
                                "sex": "F", "ubigeo": "150101"}  # fmt: skip
    await _add(db, first, 1, doc_type="DNI", doc_number="08123457", **again)
    await _add(db, second, 1, **again)  # registered again, in another household, no DNI
    twin: dict[str, Any] = {"apellido_paterno": "ZEVALLOS", "apellido_materno": "ACOSTA",
                               "birth_on": date(2007, 8, 18), "sex": "F",
                               "ubigeo": "150101"}  # fmt: skip
    await _add(db, twins, 1, nombres="ANA BRENDA", doc_type="DNI", doc_number="60045423",
               **twin)  # fmt: skip
    await _add(db, twins, 2, nombres="BRENDA", **twin)
    await db.commit()

    result = await check_pgh_duplicates(integrity_url)

    conn = await asyncpg.connect(plain_url(integrity_url))
    try:
        rows = await conn.fetch(
            "SELECT evidence->'facts'->'keys' AS keys FROM flag WHERE kind = 'pgh_duplicate'"
        )
    finally:
        await conn.close()
    flagged = {frozenset(json.loads(r["keys"])) for r in rows}
    assert frozenset(("HX1-1", "HX2-1")) in flagged
    assert frozenset(("HX3-1", "HX3-2")) not in flagged
    assert result.found == {"pgh_duplicate": len(flagged)}
