"""Batched SQL for agency reads: people by documents, their enrollments, households, members.

Every function takes a whole list of keys and runs one statement, so a request for 1,000
people costs the same handful of queries as a request for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.coverage.models import HouseholdRecord, PersonRecord


@dataclass(frozen=True, kw_only=True)
class EnrollmentRecord:
    """A person's enrollment in one program for one period."""

    id: int
    person_id: int
    program_code: str
    period: str
    status: str
    ubigeo: str | None
    household_id: int | None


@dataclass(frozen=True, kw_only=True)
class ProgramRecord:
    """A program and its latest committed period."""

    code: str
    name: str
    sector: str
    unit: str
    latest_period: str | None


_PERSON_COLUMNS = (
    "p.id, p.pgh_key, p.doc_type, p.doc_number, p.nombres, p.apellido_paterno, "
    "p.apellido_materno, p.birth_on, p.sex, p.ubigeo, p.death_on"
)


async def list_by_documents(
    session: AsyncSession, *, doc_type: str, numbers: Sequence[str]
) -> list[PersonRecord]:
    """People holding any of these numbers; DNI and CUI share one number space."""
    types = ["DNI", "CUI"] if doc_type in ("DNI", "CUI") else [doc_type]
    rows = await (await session.connection()).execute(
        text(
            f"SELECT {_PERSON_COLUMNS} FROM person p "
            "WHERE p.doc_number = ANY(:numbers) AND p.doc_type = ANY(:types) "
            "ORDER BY p.doc_number, p.in_pgh DESC, p.id"
        ),
        {"numbers": list(numbers), "types": types},
    )
    return [PersonRecord(**row._mapping) for row in rows]


async def list_by_ids(session: AsyncSession, *, person_ids: Sequence[int]) -> list[PersonRecord]:
    rows = await (await session.connection()).execute(
        text(f"SELECT {_PERSON_COLUMNS} FROM person p WHERE p.id = ANY(:ids)"),
        {"ids": list(person_ids)},
    )
    return [PersonRecord(**row._mapping) for row in rows]


async def list_enrollments(
    session: AsyncSession, *, person_ids: Sequence[int], period: str | None
) -> list[EnrollmentRecord]:
    """Enrollments of these people (of one period when given), newest period first."""
    rows = await (await session.connection()).execute(
        text(
            """
            SELECT e.id, e.person_id, e.program_code, e.period, e.status, e.ubigeo,
                   e.household_id
              FROM enrollment e
             WHERE e.person_id = ANY(:ids)
               AND (CAST(:period AS text) IS NULL OR e.period = :period)
             ORDER BY e.person_id, e.period DESC, e.program_code
            """
        ),
        {"ids": list(person_ids), "period": period},
    )
    return [EnrollmentRecord(**r._mapping) for r in rows]


async def list_households_of(
    session: AsyncSession, *, person_ids: Sequence[int]
) -> list[tuple[int, HouseholdRecord, str | None]]:
    """(person id, household, area) for every one of these people who is in a PGH household."""
    rows = await (await session.connection()).execute(
        text(
            """
            SELECT m.person_id, h.id, h.pgh_code, h.ubigeo, h.cse, h.cse_valid_from,
                   h.cse_valid_to, h.area
              FROM household_member m JOIN household h ON h.id = m.household_id
             WHERE m.person_id = ANY(:ids)
            """
        ),
        {"ids": list(person_ids)},
    )
    out = []
    for r in rows:
        m = r._mapping
        household = HouseholdRecord(
            id=m["id"],
            pgh_code=m["pgh_code"],
            ubigeo=m["ubigeo"],
            cse=m["cse"],
            cse_valid_from=m["cse_valid_from"],
            cse_valid_to=m["cse_valid_to"],
        )
        out.append((int(m["person_id"]), household, m["area"]))
    return out


async def list_member_ids(
    session: AsyncSession, *, household_ids: Sequence[int]
) -> list[tuple[int, int]]:
    """(household id, person id) of every member, in member-number order."""
    rows = await (await session.connection()).execute(
        text(
            "SELECT household_id, person_id FROM household_member "
            "WHERE household_id = ANY(:ids) ORDER BY household_id, member_number"
        ),
        {"ids": list(household_ids)},
    )
    return [(int(r[0]), int(r[1])) for r in rows]


async def list_programs(
    session: AsyncSession, *, codes: Sequence[str] | None = None
) -> list[ProgramRecord]:
    """Programs with their latest committed period."""
    rows = await (await session.connection()).execute(
        text(
            """
            SELECT p.code, p.name, p.sector, p.unit,
                   (SELECT max(b.period) FROM load_batch b
                     WHERE b.source = p.code AND b.status = 'committed') AS latest_period
              FROM program p
             WHERE CAST(:codes AS text[]) IS NULL OR p.code = ANY(:codes)
             ORDER BY p.code
            """
        ),
        {"codes": list(codes) if codes is not None else None},
    )
    return [ProgramRecord(**r._mapping) for r in rows]


async def search_people(
    session: AsyncSession,
    *,
    ubigeo_prefix: str | None,
    cse: Sequence[str] | None,
    program_code: str | None,
    period: str | None,
    birth_before: date | None,
    birth_after: date | None,
    limit: int,
    offset: int,
) -> tuple[list[PersonRecord], int]:
    """People matching every given condition, one page, and how many match in all (capped)."""
    where = ["TRUE"]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    joins = ""
    if cse is not None:
        joins += (
            " JOIN household_member m ON m.person_id = p.id"
            " JOIN household h ON h.id = m.household_id"
        )
        where.append("h.cse = ANY(:cse)")
        params["cse"] = list(cse)
    if ubigeo_prefix:
        where.append("p.ubigeo LIKE :ubigeo")
        params["ubigeo"] = ubigeo_prefix + "%"
    if program_code:
        where.append(
            "EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id "
            "AND e.program_code = :program "
            "AND (CAST(:period AS text) IS NULL OR e.period = :period))"
        )
        params["program"] = program_code
        params["period"] = period
    if birth_before:
        where.append("p.birth_on < :birth_before")
        params["birth_before"] = birth_before
    if birth_after:
        where.append("p.birth_on > :birth_after")
        params["birth_after"] = birth_after
    condition = " AND ".join(where)
    total = await (await session.connection()).execute(
        text(
            f"SELECT count(*) FROM (SELECT 1 FROM person p{joins} WHERE {condition} LIMIT :cap) t"
        ),
        {**params, "cap": 100_000},
    )
    rows = await (await session.connection()).execute(
        text(
            f"SELECT {_PERSON_COLUMNS} FROM person p{joins} WHERE {condition} "
            "ORDER BY p.id LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return [PersonRecord(**row._mapping) for row in rows], int(total.scalar_one())
