"""Statistics as count tables (areas × programs, areas × flag kinds) ready for suppression.

Tables hold raw counts and include every area of the level, zeros too; the edge suppresses
them (``privacy.suppression``) before anything is published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class CountTable:
    """Counts by (area, column); ``areas`` lists every area of the level with its name."""

    level: str
    parent: str | None
    areas: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    column_names: dict[str, str]
    periods: dict[str, str]
    counts: dict[tuple[str, str], int]

    def grid(self) -> dict[tuple[str, ...], int]:
        """Every (area, column) cell, zeros included, keyed as suppression expects."""
        return {
            (code, column): self.counts.get((code, column), 0)
            for code, _ in self.areas
            for column in self.columns
        }


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


async def users_by_area(
    session: AsyncSession,
    *,
    level: str = "departamento",
    parent: str | None = None,
    period: str | None = None,
    programs: list[str] | None = None,
) -> CountTable:
    """Users of each program per area; each program at ``period`` or at its latest period."""
    _check(level, parent, period)
    names = await repository.program_names(session)
    latest = await repository.latest_periods(session)
    wanted = [p for p in (programs or list(names)) if p in names]
    periods = {p: (period or latest[p]) for p in wanted if period or p in latest}
    counts = await repository.count_users(
        session, digits=LEVELS[level], prefix=parent or "", periods=periods
    )
    return CountTable(
        level=level,
        parent=parent,
        areas=tuple(areas_of(level, parent)),
        columns=tuple(periods),
        column_names={p: names[p] for p in periods},
        periods=periods,
        counts=counts,
    )


async def flags_by_area(
    session: AsyncSession, *, level: str = "departamento", parent: str | None = None
) -> tuple[CountTable, set[str]]:
    """Open and confirmed flags per area and kind, and the programs they concern."""
    _check(level, parent, None)
    counts = await repository.count_flags(session, digits=LEVELS[level], prefix=parent or "")
    kinds = tuple(sorted({kind for _, kind in counts}))
    table = CountTable(
        level=level,
        parent=parent,
        areas=tuple(areas_of(level, parent)),
        columns=kinds,
        column_names={k: k for k in kinds},
        periods={},
        counts=counts,
    )
    return table, await repository.flag_programs(session)
