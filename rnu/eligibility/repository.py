"""SQL that gathers the facts a person is judged on for one program and period."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.eligibility.evaluate import Facts, HouseholdFacts, Member
from rnu.errors import NotFound
from rnu.sqlexec import run_sql


async def _person_and_household(
    session: AsyncSession, person_id: int
) -> tuple[tuple[bool, date | None, date | None], int | None, HouseholdFacts | None]:
    """(in_pgh, birth, death), the household id and its facts; NotFound if unknown.

    Shared by ``get_facts`` and ``get_facts_for_programs``: the person and household facts do
    not depend on the program judged.
    """
    person = (
        await run_sql(
            session,
            "SELECT in_pgh, birth_on, death_on FROM person WHERE id = :id",
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
    facts = (bool(person[0]), person[1], person[2])
    if hh_row is None:
        return facts, None, None
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
    return facts, int(hh_row[0]), household


async def get_facts(
    session: AsyncSession, *, person_id: int, program_code: str, period: str
) -> Facts:
    """The registry's facts about a person as `evaluate` needs them; NotFound if unknown."""
    person, hh_id, household = await _person_and_household(session, person_id)
    titulars = 1
    if hh_id is not None:
        others = await run_sql(
            session,
            (
                "SELECT count(DISTINCT e.person_id) FROM enrollment e "
                "JOIN household_member m ON m.person_id = e.person_id "
                "WHERE m.household_id = :hh AND e.program_code = :prog AND e.period = :period "
                "AND e.person_id <> :id"
            ),
            {"hh": hh_id, "prog": program_code, "period": period, "id": person_id},
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
        in_pgh=person[0],
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


async def latest_roll_periods(session: AsyncSession) -> dict[str, str]:
    """Each program's latest committed roll period (programs RNU holds a roll of)."""
    rows = await run_sql(
        session,
        (
            "SELECT source, max(period) FROM load_batch "
            "WHERE status = 'committed' AND period IS NOT NULL GROUP BY source"
        ),
        {},
    )
    return {str(r[0]): str(r[1]) for r in rows}


async def get_facts_for_programs(
    session: AsyncSession, *, person_id: int, periods: dict[str, str]
) -> dict[str, Facts]:
    """The facts of one person for several programs, each in its own period, in five queries.

    For programs the person is *not* on (the "could I also receive…" list): the person and
    household facts are shared, only the other programs of each period and the household's
    titulars of each program differ. There is no roll row, so no disability certificate.
    """
    if not periods:
        return {}
    person, hh_id, household = await _person_and_household(session, person_id)
    titulars: dict[tuple[str, str], int] = {}
    wanted = sorted(set(periods.values()))
    if hh_id is not None:
        others = await run_sql(
            session,
            (
                "SELECT e.program_code, e.period, count(DISTINCT e.person_id) FROM enrollment e "
                "JOIN household_member m ON m.person_id = e.person_id "
                "WHERE m.household_id = :hh AND e.person_id <> :id "
                "AND e.program_code = ANY(:progs) AND e.period = ANY(:periods) "
                "GROUP BY 1, 2"
            ),
            {"hh": hh_id, "id": person_id, "progs": sorted(periods), "periods": wanted},
        )
        titulars = {(str(r[0]), str(r[1])): int(r[2]) for r in others}
    enrolled = await run_sql(
        session,
        "SELECT program_code, period FROM enrollment WHERE person_id = :id AND period = ANY(:p)",
        {"id": person_id, "p": wanted},
    )
    by_period: dict[str, set[str]] = {}
    for code, period in enrolled:
        by_period.setdefault(str(period), set()).add(str(code))
    return {
        code: Facts(
            in_pgh=person[0],
            birth_on=person[1],
            death_on=person[2],
            household=household,
            other_programs=frozenset(by_period.get(period, set()) - {code}),
            household_titulars=1 + titulars.get((code, period), 0),
        )
        for code, period in periods.items()
    }
