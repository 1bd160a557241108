"""All SQL of the analysts' dashboard; every count grouped by program and department."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.sqlexec import execute

Key = tuple[str, str]  # (program_code, department code)


async def latest_periods(session: AsyncSession) -> dict[str, str]:
    """Each program's latest enrolled period."""
    rows = await execute(
        session, text("SELECT program_code, max(period) FROM enrollment GROUP BY program_code")
    )
    return {str(p): str(v) for p, v in rows}


_PERIODS = """
    WITH chosen(program_code, period) AS (
        SELECT * FROM unnest(CAST(:programs AS text[]), CAST(:periods AS text[]))
    )
"""


def _periods_params(periods: dict[str, str], place: str | None = None) -> dict[str, object]:
    return {"programs": list(periods), "periods": list(periods.values()), "place": place or ""}


# A department's (2 digits) or a province's (4) ubigeo prefix; '' is the whole country.
def _in_place(column: str) -> str:
    return f" AND (CAST(:place AS text) = '' OR {column} LIKE CAST(:place AS text) || '%') "


async def count_users(
    session: AsyncSession, *, periods: dict[str, str], place: str | None = None
) -> dict[Key, int]:
    rows = await execute(
        session,
        text(
            _PERIODS
            + """
            SELECT e.program_code, left(e.ubigeo, 2), count(*)
              FROM enrollment e JOIN chosen c USING (program_code, period)
             WHERE true"""
            + _in_place("e.ubigeo")
            + """
             GROUP BY 1, 2
            """
        ),
        _periods_params(periods, place),
    )
    return {(str(p), str(d or "")): int(n) for p, d, n in rows}


async def count_flags(
    session: AsyncSession, *, periods: dict[str, str], place: str | None = None
) -> dict[tuple[str, str, str, str], int]:
    """{(program, department, kind, status): flags} in each program's chosen period."""
    rows = await execute(
        session,
        text(
            _PERIODS
            + """
            SELECT f.program_code, left(f.ubigeo, 2), f.kind, f.status, count(*)
              FROM flag f JOIN chosen c USING (program_code, period)
             WHERE true"""
            + _in_place("f.ubigeo")
            + """
             GROUP BY 1, 2, 3, 4
            """
        ),
        _periods_params(periods, place),
    )
    return {(str(p), str(d or ""), str(k), str(s)): int(n) for p, d, k, s, n in rows}


async def count_flagged_people(
    session: AsyncSession, *, periods: dict[str, str], kinds: list[str], place: str | None = None
) -> dict[Key, int]:
    """People with at least one open or confirmed flag of these kinds (the filtración)."""
    rows = await execute(
        session,
        text(
            _PERIODS
            + """
            SELECT f.program_code, left(f.ubigeo, 2), count(DISTINCT f.person_id)
              FROM flag f JOIN chosen c USING (program_code, period)
             WHERE f.status IN ('open', 'confirmed') AND f.kind = ANY(:kinds)
               AND f.person_id IS NOT NULL"""
            + _in_place("f.ubigeo")
            + """
             GROUP BY 1, 2
            """
        ),
        {**_periods_params(periods, place), "kinds": kinds},
    )
    return {(str(p), str(d or "")): int(n) for p, d, n in rows}


async def subcobertura(
    session: AsyncSession, *, prefixes: list[str], place: str | None = None
) -> dict[Key, int]:
    """Estimated eligible-but-not-enrolled people, where the checks published estimates.

    An estimate flag may carry its count in ``evidence.count``; otherwise it counts as one.
    """
    rows = await execute(
        session,
        text(
            """
            SELECT program_code, left(ubigeo, 2),
                   sum(coalesce((evidence->>'count')::bigint, 1))
              FROM flag
             WHERE status IN ('open', 'confirmed') AND program_code IS NOT NULL
               AND kind LIKE ANY(:patterns)"""
            + _in_place("ubigeo")
            + """
             GROUP BY 1, 2
            """
        ),
        {"patterns": [f"{p}%" for p in prefixes], "place": place or ""},
    )
    return {(str(p), str(d or "")): int(n) for p, d, n in rows}


async def count_cse_expiring(
    session: AsyncSession,
    *,
    periods: dict[str, str],
    start: date,
    end: date,
    place: str | None = None,
) -> dict[Key, int]:
    """Program users whose household's CSE ends between ``start`` and ``end``."""
    rows = await execute(
        session,
        text(
            _PERIODS
            + """
            SELECT e.program_code, left(e.ubigeo, 2), count(DISTINCT e.person_id)
              FROM enrollment e JOIN chosen c USING (program_code, period)
              LEFT JOIN household_member m ON m.person_id = e.person_id
              JOIN household h ON h.id = coalesce(e.household_id, m.household_id)
             WHERE h.cse_valid_to BETWEEN :start AND :end"""
            + _in_place("e.ubigeo")
            + """
             GROUP BY 1, 2
            """
        ),
        {**_periods_params(periods, place), "start": start, "end": end},
    )
    return {(str(p), str(d or "")): int(n) for p, d, n in rows}


async def program_periods(session: AsyncSession) -> dict[str, list[str]]:
    """Every program's enrolled periods (text; the caller orders them as ``Period``s)."""
    rows = await execute(
        session, text("SELECT DISTINCT program_code, period FROM enrollment ORDER BY 1, 2")
    )
    out: dict[str, list[str]] = {}
    for program, period in rows:
        out.setdefault(str(program), []).append(str(period))
    return out


async def flags_per_period(
    session: AsyncSession, *, program_code: str | None = None, place: str | None = None
) -> dict[tuple[str, str], int]:
    """{(period, kind): flags raised for that period}, any status but 'resolved'.

    A resolved flag is one the checks no longer find (the row was fixed or left the roll), so
    it is not counted as a finding of its period.
    """
    rows = await execute(
        session,
        text(
            """
            SELECT period, kind, count(*) FROM flag
             WHERE period IS NOT NULL AND status <> 'resolved'
               AND (CAST(:program AS text) = '' OR program_code = :program)"""
            + _in_place("ubigeo")
            + """
             GROUP BY 1, 2
            """
        ),
        {"program": program_code or "", "place": place or ""},
    )
    return {(str(p), str(k)): int(n) for p, k, n in rows}
