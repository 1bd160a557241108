"""Issue 11.5 on a loaded country: what the old pages gave away, and what the patterns reserve.

    RNU_DATA_DIR=/tmp/rnu-demo .venv/bin/rnu demo --people 10000 --no-serve
    RNU_DATA_DIR=/tmp/rnu-demo .venv/bin/python -m bench.suppression_audit

Reads the demo's database ("rnu" on the embedded server of ``RNU_DATA_DIR``, or
``--database-url``), takes every programme at its latest committed period, and prints:

* before: the district tables the statistics published per province (two-way suppression of
  districts × programmes with their margins, ``privacy.suppression.suppress``), the district
  cells they reserved, how many of those the district page showed in clear (it showed any
  count ≥ k), and how many shown district counts gave away 1..9 people a roll counts without
  listing (the page count minus the listed entries);
* now: the cells each column's pattern reserves (``usecases.families``), and how many reserved
  counts the rank test finds determined by the column's sums (expected 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from privacy import linear
from privacy.family import parent_of
from privacy.suppression import SENSITIVE_K, k_for, suppress
from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import plain_url, start_embedded_postgres
from rnu.stats import service as stats_service
from rnu.ubigeo.reference import departments, districts_of, provinces
from usecases import families
from usecases.public import users_k


def database_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    base = start_embedded_postgres(Path(os.environ.get("RNU_DATA_DIR", "./.rnu")))
    return urlunsplit(urlsplit(plain_url(base))._replace(path="/rnu"))


async def audit(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=2)
    async with make_sessionmaker(engine)() as session:
        columns = await stats_service.user_columns(session)
        periods = columns.periods
        counts = await stats_service.users_by_district(
            session,
            periods=periods,
            adult_on={p: families.adult_on(period) for p, period in periods.items()},
        )
        patterns = await families.compute_user_patterns(session, periods)
    await engine.dispose()
    programmes = list(periods)
    total = {key: users for key, (users, _) in counts.items()}
    unlisted = {
        key: users - (0 if families.is_count_only(key[1]) else adults)
        for key, (users, adults) in counts.items()
    }
    print(f"programmes at their latest period: {periods}")
    print(f"non-zero district cells: {sum(1 for v in total.values() if v)}")

    # Before: each district table suppressed on its own (per province, per department, the
    # whole country), and the district page on its own.
    k = users_k(programmes)

    def reserved_by(groups: list[list[str]]) -> set[tuple[str, str]]:
        hidden: set[tuple[str, str]] = set()
        for areas in groups:
            grid: dict[tuple[str, ...], int] = {
                (a, p): total.get((a, p), 0) for a in areas for p in programmes
            }
            for (a, p), value in suppress(grid, k).as_mapping().items():
                if value is None:
                    hidden.add((a, p))
        return hidden

    by_province = [[d.inei for d in districts_of(prov)] for dep, _ in departments()
                   for prov, _ in provinces(dep)]  # fmt: skip
    by_department = [[a for prov in group for a in prov] for group in (
        [[d.inei for d in districts_of(prov)] for prov, _ in provinces(dep)]
        for dep, _ in departments()
    )]  # fmt: skip
    views = {
        "per province": reserved_by(by_province),
        "per department": reserved_by(by_department),
        "whole country": reserved_by([[a for group in by_province for a in group]]),
    }
    page_shown = {key for key, v in total.items() if v >= k_for(key[1], False)}
    children = {key for key in page_shown if 0 < unlisted.get(key, 0) < SENSITIVE_K}
    print("before:")
    for name, hidden in views.items():
        print(
            f"  district tables {name:<15} reserved {len(hidden):5d},"
            f" shown in clear on the district page {len(hidden & page_shown):4d}"
        )
    union = set().union(*views.values())
    print(f"  reserved by some table, shown on the page       {len(union & page_shown)}")
    print(f"  shown counts minus listed = 1..9 not listed     {len(children)}")

    # Now: one pattern per column.
    districts = stats_service.every_district()
    codes = {d[:n] for d in districts for n in (0, 2, 4, 6)}
    children_of: dict[str, list[str]] = {}
    for code in codes:
        up = parent_of(code)
        if up is not None:
            children_of.setdefault(up, []).append(code)
    equations = [{t: 1, **dict.fromkeys(parts, -1)} for t, parts in children_of.items()]
    reserved = determined = 0
    for pattern in patterns.values():
        reserved += sum(1 for c in pattern.hidden if len(c) == 6)
        determined += len(linear.determined(equations, pattern.hidden))
    shown_reserved = sum(
        1 for (d, p) in total if (d, p) in page_shown and patterns[p].shown(d) is None
    )
    print("now:")
    print(f"  district cells reserved (every table and page)  {reserved}")
    print(f"  reserved counts a column's sums determine       {determined}")
    print(f"  counts the old page showed that are now reserved {shown_reserved}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(audit(database_url(args.database_url)))


if __name__ == "__main__":
    main()
