"""Statistics' raw counts per district (users per program and period, open flags per kind).

Only districts are counted: every published level is a sum up the hierarchy, and the one
suppression pattern of each column (``privacy.family``) is computed over all of them before
anything is published (``usecases.families``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.errors import InvalidInput
from rnu.stats import repository
from rnu.ubigeo.reference import departments, districts_of, provinces

LEVELS: dict[str, int] = {"departamento": 2, "provincia": 4, "distrito": 6}
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Flag kinds that estimate exclusion (someone qualifies and is not served) rather than filtración.
SUBCOBERTURA_PREFIXES = ("subcobertura", "exclusion", "undercoverage")


def is_subcobertura(kind: str) -> bool:
    return kind.lower().startswith(SUBCOBERTURA_PREFIXES)


def areas_of(level: str, parent: str | None) -> list[tuple[str, str]]:
    """(code, name) of every area of ``level`` under ``parent`` (None: the whole country)."""
    if level not in LEVELS:
        raise InvalidInput(f"nivel must be one of {', '.join(LEVELS)}")
    parent = parent or ""
    if level == "departamento":
        return departments()
    if level == "provincia":
        deps = [parent[:2]] if parent else [code for code, _ in departments()]
        return [p for dep in deps for p in provinces(dep)]
    provs = (
        [parent[:4]]
        if len(parent) >= 4
        else [
            code
            for dep in ([parent[:2]] if parent else [d for d, _ in departments()])
            for code, _ in provinces(dep)
        ]
    )
    return [(d.inei, d.distrito) for prov in provs for d in districts_of(prov)]


def _check(level: str, parent: str | None, period: str | None) -> None:
    if level not in LEVELS:
        raise InvalidInput(f"nivel must be one of {', '.join(LEVELS)}")
    if parent is not None and not (parent.isdigit() and len(parent) in (2, 4)):
        raise InvalidInput("padre must be a 2-digit department or 4-digit province code")
    if parent is not None and len(parent) >= LEVELS[level]:
        raise InvalidInput("padre must be above the requested level")
    if period is not None and not _PERIOD.match(period):
        raise InvalidInput("periodo must be YYYY-MM")


@dataclass(frozen=True)
class UserColumns:
    """Which (program, period) columns a users table shows, with the programs' names."""

    periods: dict[str, str]
    names: dict[str, str]


async def user_columns(
    session: AsyncSession,
    *,
    level: str = "departamento",
    parent: str | None = None,
    period: str | None = None,
    programs: list[str] | None = None,
) -> UserColumns:
    """Each wanted program at ``period``, or at its latest committed period."""
    _check(level, parent, period)
    names = await repository.program_names(session)
    latest = await repository.latest_periods(session)
    wanted = [p for p in (programs or list(names)) if p in names]
    periods = {p: (period or latest[p]) for p in wanted if period or p in latest}
    return UserColumns(periods=periods, names={p: names[p] for p in periods})


async def users_by_district(
    session: AsyncSession, *, periods: dict[str, str], adult_on: dict[str, date]
) -> dict[tuple[str, str], tuple[int, int]]:
    """{(district, program): (users, users old enough to be listed)} at the given periods."""
    return await repository.count_users_by_district(session, periods=periods, adult_on=adult_on)


async def flags_by_district(session: AsyncSession) -> tuple[dict[tuple[str, str], int], set[str]]:
    """{(district, kind): open verified flags}, and the programs any of them concerns."""
    counts = await repository.count_flags_by_district(session)
    return counts, await repository.flag_programs(session)


def every_district() -> list[str]:
    """The INEI code of every district of the reference, the leaves of every hierarchy."""
    return [code for code, _ in areas_of("distrito", None)]
