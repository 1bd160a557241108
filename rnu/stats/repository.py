"""SQL aggregates for statistics: grouped counts, never rows about people."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.sqlexec import run_sql


async def latest_periods(session: AsyncSession) -> dict[str, str]:
    """Each program's latest committed period (from the small batch table, not enrollments).

    Only periods of the right form: a batch stored with "2026-13" before migration 0013
    (which checks new ones) sorted last and made the statistics answer 400 to everyone.
    """
    rows = await run_sql(
        session,
        (
            "SELECT b.source, max(b.period) FROM load_batch b JOIN program p ON p.code = b.source "
            "WHERE b.status = 'committed' AND b.period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$' "
            "GROUP BY b.source"
        ),
    )
    return {str(r[0]): str(r[1]) for r in rows}


async def program_names(session: AsyncSession) -> dict[str, str]:
    rows = await run_sql(session, ("SELECT code, name FROM program ORDER BY code"))
    return {str(r[0]): str(r[1]) for r in rows}


async def count_flags(
    session: AsyncSession, *, digits: int, prefix: str
) -> dict[tuple[str, str], int]:
    """{(area code, flag kind): open or confirmed flags}; dismissed ones are not findings.

    Only verified flags: one "por verificar" rests on a link not yet confirmed (a row in
    review, a fuzzy link near the threshold) and must not show as filtración in public.
    """
    rows = await run_sql(
        session,
        (
            """
            SELECT left(ubigeo, :digits) AS area, kind, count(*) AS n
              FROM flag
             WHERE status IN ('open', 'confirmed') AND verification = 'verified'
               AND ubigeo LIKE :prefix
             GROUP BY 1, 2
            """
        ),
        {"digits": digits, "prefix": f"{prefix}%"},
    )
    return {(str(r.area), str(r.kind)): int(r.n) for r in rows if r.area}


async def flag_programs(session: AsyncSession) -> set[str]:
    """Programs any open flag is about (for choosing the suppression threshold)."""
    rows = await run_sql(
        session,
        (
            "SELECT DISTINCT program_code FROM flag "
            "WHERE status IN ('open', 'confirmed') AND verification = 'verified' "
            "AND program_code IS NOT NULL"
        ),
    )
    return {str(r[0]) for r in rows}


async def count_users_by_district(
    session: AsyncSession, *, periods: dict[str, str], adult_on: dict[str, date]
) -> dict[tuple[str, str], tuple[int, int]]:
    """{(district, program): (users, adults)} for each program at its period.

    ``adults`` counts the users a public roll page may list by age (born on or before the
    program's ``adult_on``, or of unknown birth date, as ``rnu.roll`` lists them); the rest
    are counted there without being listed.
    """
    if not periods:
        return {}
    programs = list(periods)
    rows = await run_sql(
        session,
        (
            """
            SELECT e.ubigeo AS area, e.program_code, count(*) AS n,
                   count(*) FILTER (WHERE p.birth_on IS NULL OR p.birth_on <= w.adult_on) AS adults
              FROM enrollment e
              JOIN unnest(CAST(:programs AS text[]), CAST(:periods AS text[]),
                          CAST(:adult_on AS date[])) AS w(program, period, adult_on)
                ON w.program = e.program_code AND w.period = e.period
              JOIN person p ON p.id = e.person_id
             WHERE e.ubigeo IS NOT NULL
             GROUP BY 1, 2
            """
        ),
        {
            "programs": programs,
            "periods": [periods[p] for p in programs],
            "adult_on": [adult_on[p] for p in programs],
        },
    )
    return {(str(r.area), str(r.program_code)): (int(r.n), int(r.adults)) for r in rows}


async def count_flags_by_district(session: AsyncSession) -> dict[tuple[str, str], int]:
    """{(district, flag kind): open or confirmed verified flags} (see ``count_flags``)."""
    return await count_flags(session, digits=6, prefix="")
