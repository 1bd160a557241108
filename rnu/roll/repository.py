"""SQL for rolls: one program's enrollments in one district and period, searched and paged."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.roll.models import DistrictProgram, RollEntryRecord, roll_entry_key
from rnu.sqlexec import run_sql

_FOLD_FROM = "áéíóúüñàèìòùÁÉÍÓÚÜÑÀÈÌÒÙ"
_FOLD_TO = "aeiouunaeiouAEIOUUNAEIOU"


def _fold_sql(column: str) -> str:
    return f"upper(translate({column}, '{_FOLD_FROM}', '{_FOLD_TO}'))"


def _filters(
    *, adult_on: date | None, given: str | None, initials: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if adult_on is not None:
        # Unknown birth dates are listed: the policy treats them as adults too, and the
        # programs that serve children are never listed at all (count_only).
        where.append("(p.birth_on IS NULL OR p.birth_on <= :adult_on)")
        params["adult_on"] = adult_on
    if given:
        where.append(f"split_part({_fold_sql('p.nombres')}, ' ', 1) LIKE :given")
        params["given"] = given.replace("%", "").replace("_", "") + "%"
    for column, initial in zip(
        ("p.apellido_paterno", "p.apellido_materno"), initials, strict=False
    ):
        name = f"i_{column[2:]}"
        where.append(f"left({_fold_sql(column)}, 1) = :{name}")
        params[name] = initial
    return "".join(f" AND {w}" for w in where), params


_BASE = (
    "FROM enrollment e JOIN person p ON p.id = e.person_id "
    "WHERE e.program_code = :program AND e.ubigeo = :ubigeo AND e.period = :period"
)


async def list_entries(
    session: AsyncSession,
    *,
    program_code: str,
    ubigeo: str,
    period: str,
    adult_on: date | None,
    given: str | None,
    initials: tuple[str, ...],
    limit: int,
    offset: int,
) -> tuple[list[RollEntryRecord], int]:
    """A page of listable entries (ordered by surname) and how many match in all."""
    extra, params = _filters(adult_on=adult_on, given=given, initials=initials)
    params |= {"program": program_code, "ubigeo": ubigeo, "period": period}
    total = (await run_sql(session, (f"SELECT count(*) {_BASE}{extra}"), params)).scalar_one()
    rows = await run_sql(
        session,
        (
            "SELECT e.id AS enrollment_id, e.person_id, e.program_code, e.period, e.ubigeo, "
            "CASE WHEN p.doc_type IN ('DNI', 'CUI') THEN p.doc_number END AS dni, "
            "p.nombres, p.apellido_paterno, p.apellido_materno, "
            f"p.birth_on, p.sex {_BASE}{extra} "
            "ORDER BY p.apellido_paterno, p.apellido_materno, p.nombres, e.id "
            "LIMIT :limit OFFSET :offset"
        ),
        params | {"limit": limit, "offset": offset},
    )
    entries = [
        RollEntryRecord(entry_key=roll_entry_key(r.program_code, r.person_id), **r._mapping)
        for r in rows
    ]
    return entries, int(total)


async def count_entries(
    session: AsyncSession, *, program_code: str, ubigeo: str, period: str
) -> int:
    params = {"program": program_code, "ubigeo": ubigeo, "period": period}
    return int((await run_sql(session, (f"SELECT count(*) {_BASE}"), params)).scalar_one())


async def list_person_ids(session: AsyncSession, *, program_code: str, ubigeo: str) -> list[int]:
    """Every person ever on this program's roll in this district (to resolve an entry id)."""
    rows = await run_sql(
        session,
        (
            "SELECT DISTINCT person_id FROM enrollment "
            "WHERE program_code = :program AND ubigeo = :ubigeo"
        ),
        {"program": program_code, "ubigeo": ubigeo},
    )
    return [int(r[0]) for r in rows]


async def latest_enrollment(
    session: AsyncSession, *, program_code: str, person_id: int
) -> tuple[int, str, str | None] | None:
    """(enrollment id, period, ubigeo) of the person's latest enrollment in the program."""
    row = (
        await run_sql(
            session,
            (
                "SELECT id, period, ubigeo FROM enrollment "
                "WHERE program_code = :program AND person_id = :person "
                "ORDER BY period DESC LIMIT 1"
            ),
            {"program": program_code, "person": person_id},
        )
    ).first()
    return (int(row[0]), str(row[1]), row[2]) if row else None


async def get_entry(session: AsyncSession, *, enrollment_id: int) -> RollEntryRecord | None:
    """One enrollment with its person's fields (the entry a report points at)."""
    row = (
        await run_sql(
            session,
            (
                "SELECT e.id AS enrollment_id, e.person_id, e.program_code, e.period, e.ubigeo, "
                "CASE WHEN p.doc_type IN ('DNI', 'CUI') THEN p.doc_number END AS dni, "
                "p.nombres, p.apellido_paterno, p.apellido_materno, "
                "p.birth_on, p.sex FROM enrollment e JOIN person p ON p.id = e.person_id "
                "WHERE e.id = :id"
            ),
            {"id": enrollment_id},
        )
    ).first()
    if row is None:
        return None
    key = roll_entry_key(row.program_code, row.person_id)
    return RollEntryRecord(entry_key=key, **row._mapping)


async def list_district_programs(session: AsyncSession, *, ubigeo: str) -> list[DistrictProgram]:
    """Programs with users in the district, each at its latest period there."""
    rows = await run_sql(
        session,
        (
            """
            WITH latest AS (
              SELECT program_code, max(period) AS period FROM enrollment
               WHERE ubigeo = :ubigeo GROUP BY program_code
            )
            SELECT l.program_code, pr.name AS program_name, l.period, count(*) AS users
              FROM latest l
              JOIN enrollment e ON e.program_code = l.program_code AND e.period = l.period
                               AND e.ubigeo = :ubigeo
              JOIN program pr ON pr.code = l.program_code
             GROUP BY l.program_code, pr.name, l.period
             ORDER BY l.program_code
            """
        ),
        {"ubigeo": ubigeo},
    )
    return [DistrictProgram(**r._mapping) for r in rows]


async def list_periods(session: AsyncSession, *, program_code: str, ubigeo: str) -> list[str]:
    rows = await run_sql(
        session,
        (
            "SELECT DISTINCT period FROM enrollment WHERE program_code = :program "
            "AND ubigeo = :ubigeo ORDER BY period DESC LIMIT 36"
        ),
        {"program": program_code, "ubigeo": ubigeo},
    )
    return [str(r[0]) for r in rows]
