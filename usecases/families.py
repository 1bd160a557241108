"""The suppression pattern of every published column, computed once per data version.

A column is one program at one period (or one kind of open flag) over the area hierarchy
(``privacy.family``). Statistics at every level, the district page, the roll pages'
``no_listados``, open data and GraphQL's coverage all read the pattern from here, so a count is
hidden in all of them or in none. Patterns are cached in Redis under the data version, like the
statistics themselves: a load or a check that changes counts bumps the version and every
pattern is computed afresh.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.family import ColumnPattern, suppress_column
from privacy.policy import ADULT_AGE
from privacy.programs import is_child_program, is_disability_program
from privacy.suppression import DEFAULT_K, k_for
from rnu.cache import STATS_TTL_S, stats_key
from rnu.period import Period
from rnu.stats import service as stats_service
from usecases.context import Context


def adult_on(period: str) -> date:
    """The latest birth date of someone already 18 on the first day of ``period``."""
    first = Period.parse(period).first_day
    return first.replace(year=first.year - ADULT_AGE)


def is_count_only(program: str) -> bool:
    """Programs whose rolls list nobody (being on them is itself sensitive)."""
    return is_disability_program(program) or is_child_program(program)


def _key(version: int, *parts: str) -> str:
    return stats_key(version, "family", *parts)


_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _one_at_a_time() -> asyncio.Lock:
    """This process's lock on computing patterns (one per event loop).

    After a load bumps the data version, every roll page and statistics request misses the
    cache at once; without it each would run the country-wide grouped query. With it the first
    computes and stores, the others wait and read the cache.
    """
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


async def _cached_users(
    ctx: Context, version: int, periods: dict[str, str]
) -> tuple[dict[str, ColumnPattern], dict[str, str]]:
    found: dict[str, ColumnPattern] = {}
    missing: dict[str, str] = {}
    for program, period in periods.items():
        cached = await ctx.cache.get_json(_key(version, "users", program, period))
        if cached is not None:
            found[program] = ColumnPattern.from_json(cached)
        else:
            missing[program] = period
    return found, missing


async def user_patterns(ctx: Context, periods: dict[str, str]) -> dict[str, ColumnPattern]:
    """{program: pattern of its users at ``periods[program]``}, from cache or computed."""
    version = await ctx.version()
    found, missing = await _cached_users(ctx, version, periods)
    if missing:
        async with _one_at_a_time():
            again, missing = await _cached_users(ctx, version, missing)
            found |= again
            if missing:
                computed = await compute_user_patterns(ctx.session, missing)
                for program, pattern in computed.items():
                    key = _key(version, "users", program, missing[program])
                    await ctx.cache.set_json(key, pattern.to_json(), STATS_TTL_S)
                found |= computed
    return {program: found[program] for program in periods}


async def compute_user_patterns(
    session: AsyncSession, periods: dict[str, str]
) -> dict[str, ColumnPattern]:
    """The patterns, computed (one grouped query for all the columns); no cache."""
    counts = await stats_service.users_by_district(
        session, periods=periods, adult_on={p: adult_on(period) for p, period in periods.items()}
    )
    totals: dict[str, dict[str, int]] = {p: {} for p in periods}
    unlisted: dict[str, dict[str, int]] = {p: {} for p in periods}
    for (district, program), (users, adults) in counts.items():
        totals[program][district] = users
        unlisted[program][district] = users - (0 if is_count_only(program) else adults)
    districts = stats_service.every_district()
    return {
        program: suppress_column(
            totals[program],
            districts,
            k_for(program, touches_minors=False),
            unlisted=unlisted[program],
        )
        for program in periods
    }


async def flag_patterns(ctx: Context) -> tuple[dict[str, ColumnPattern], int]:
    """{flag kind: pattern of its open verified flags} and the threshold they share.

    The threshold is 10 when any flag concerns a disability or child program, else 5.
    """
    version = await ctx.version()
    key = _key(version, "flags")
    cached = await ctx.cache.get_json(key)
    if cached is None:
        async with _one_at_a_time():
            cached = await ctx.cache.get_json(key)
            if cached is None:
                return await _compute_flags(ctx, key)
    columns = {kind: ColumnPattern.from_json(p) for kind, p in cached["columns"].items()}
    return columns, int(cached["k"])


async def _compute_flags(ctx: Context, key: str) -> tuple[dict[str, ColumnPattern], int]:
    counts, programs = await stats_service.flags_by_district(ctx.session)
    k = max((k_for(p, touches_minors=False) for p in programs), default=DEFAULT_K)
    districts = stats_service.every_district()
    by_kind: dict[str, dict[str, int]] = {}
    for (district, kind), n in counts.items():
        by_kind.setdefault(kind, {})[district] = n
    patterns = {kind: suppress_column(by_kind[kind], districts, k) for kind in sorted(by_kind)}
    await ctx.cache.set_json(
        key,
        {"k": k, "columns": {kind: p.to_json() for kind, p in patterns.items()}},
        STATS_TTL_S,
    )
    return patterns, k
