"""SQL that gathers the facts a person is judged on for one program and period."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.eligibility.evaluate import Facts, HouseholdFacts, Member
from rnu.errors import NotFound
from rnu.sqlexec import run_sql


async def get_facts(
    session: AsyncSession, *, person_id: int, program_code: str, period: str
) -> Facts:
    """The registry's facts about a person as `evaluate` needs them; NotFound if unknown."""
    person = (
        await run_sql(
            session,
            ("SELECT in_pgh, birth_on, death_on FROM person WHERE id = :id"),
            {"id": person_id},
        )
    ).first()
    if person is None:
        raise NotFound("no such person")
    hh_row = (
        await run_sql(
            session,
            (
                "SELECT h.id, h.cse, h.cse_valid_from, h.cse_valid_to FROM household_member m "
                "JOIN household h ON h.id = m.household_id WHERE m.person_id = :id"
            ),
            {"id": person_id},
        )
    ).first()
    household = None
    titulars = 1
    if hh_row is not None:
        members = await run_sql(
            session,
            (
                "SELECT p.birth_on, p.death_on FROM household_member m "
                "JOIN person p ON p.id = m.person_id WHERE m.household_id = :hh"
            ),
            {"hh": hh_row[0]},
        )
        household = HouseholdFacts(
            cse=hh_row[1],
            cse_valid_from=hh_row[2],
            cse_valid_to=hh_row[3],
            members=tuple(Member(r[0], r[1]) for r in members),
        )
        others = await run_sql(
            session,
            (
                "SELECT count(DISTINCT e.person_id) FROM enrollment e "
                "JOIN household_member m ON m.person_id = e.person_id "
                "WHERE m.household_id = :hh AND e.program_code = :prog AND e.period = :period "
                "AND e.person_id <> :id"
            ),
            {"hh": hh_row[0], "prog": program_code, "period": period, "id": person_id},
        )
        titulars = 1 + int(others.scalar_one())
    programs = await run_sql(
        session,
        (
            "SELECT program_code FROM enrollment WHERE person_id = :id AND period = :period "
            "AND program_code <> :prog"
        ),
        {"id": person_id, "period": period, "prog": program_code},
    )
    certificate = (
        await run_sql(
            session,
            (
                "SELECT r.extra ->> 'certificado' FROM enrollment e "
                "JOIN roll_row r ON r.id = e.roll_row_id "
                "WHERE e.person_id = :id AND e.program_code = :prog AND e.period = :period"
            ),
            {"id": person_id, "prog": program_code, "period": period},
        )
    ).scalar_one_or_none()
    return Facts(
        in_pgh=bool(person[0]),
        birth_on=person[1],
        death_on=person[2],
        household=household,
        other_programs=frozenset(str(r[0]) for r in programs),
        household_titulars=titulars,
        disability_certificate=certificate or None,
    )


async def find_person_by_document(session: AsyncSession, *, number: str) -> int:
    """The person holding a DNI/CUI (the PGH record first); NotFound when nobody does."""
    row = (
        await run_sql(
            session,
            (
                "SELECT id FROM person WHERE doc_number = :n AND doc_type IN ('DNI', 'CUI') "
                "ORDER BY in_pgh DESC, id LIMIT 1"
            ),
            {"n": number},
        )
    ).first()
    if row is None:
        raise NotFound("no person with that document")
    return int(row[0])
