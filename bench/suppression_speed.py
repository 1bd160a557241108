"""How long one data version's suppression patterns take, cold, for a whole country.

    .venv/bin/python -m bench.suppression_speed [--people 200000] [--programs 8] [--seed 5]

Seeds a fresh database with people spread over every district of the reference (a skewed
spread, so most districts are small, as in Peru), ``--programs`` programmes each enrolling a
share of them (every fifth person is a minor, enrolled only on SIS and the child programmes),
then computes every programme's pattern (``usecases.families.compute_user_patterns``: the one
grouped query plus ``suppress_column``) and prints the query and suppression times, the cells,
how many are reserved (primary and complementary) and whether the rank test finds any reserved
count determined.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from bench.harness import drop_database, fresh_database
from privacy import linear
from privacy.family import parent_of
from rnu.db import make_engine, make_sessionmaker
from rnu.embedded import plain_url
from rnu.sqlexec import run_sql
from rnu.stats import service as stats_service
from usecases import families

# Programmes whose rolls hold minors (the others enrol adults only).
WITH_MINORS = {"SIS", "QALIWARMA", "CUNAMAS"}
PROGRAMS = ["JUNTOS", "PENSION65", "SIS", "FISE", "QALIWARMA", "CUNAMAS", "CONTIGO", "BECA18"]


async def seed(db_url: str, people: int, programs: list[str], seed: int) -> None:
    districts = stats_service.every_district()
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        async with conn.transaction():
            await conn.execute(f"SELECT setseed({(seed % 100) / 100})")
            # A district's share falls with its rank (random()^2): a few big, a long small tail.
            await conn.execute(
                """
                INSERT INTO household (pgh_code, ubigeo, area, cse, cse_valid_from, cse_valid_to)
                SELECT 'B' || g,
                       ($1::text[])[1 + least($2 - 1, floor($2 * power(random(), 2))::int)],
                       'U', 'PE', '2025-01-01', '2028-01-01'
                  FROM generate_series(1, $3) g
                """,
                districts, len(districts), people,
            )  # fmt: skip
            await conn.execute(
                """
                INSERT INTO person (pgh_key, doc_type, doc_number, nombres, apellido_paterno,
                                    apellido_materno, birth_on, sex, ubigeo)
                SELECT 'B' || g || '-1', 'DNI', lpad((30000000 + g)::text, 8, '0'),
                       'NOMBRE' || g, 'PATERNO', 'MATERNO',
                       CASE WHEN g % 5 = 0 THEN date '2015-03-09' ELSE date '1950-03-09' END,
                       'F', h.ubigeo
                  FROM generate_series(1, $1) g JOIN household h ON h.pgh_code = 'B' || g
                """,
                people,
            )
            for n, program in enumerate(programs):
                batch_id = await conn.fetchval(
                    "INSERT INTO load_batch (source, period, file_name, sha256, status, rows_read,"
                    " rows_loaded, rows_quarantined) VALUES ($1, '2026-10', $2, $3, 'committed',"
                    " 0, 0, 0) RETURNING id",
                    program, f"{program}.bench", f"{n:064x}",
                )  # fmt: skip
                await conn.execute(
                    """
                    INSERT INTO enrollment (person_id, program_code, period, ubigeo, batch_id,
                                            roll_row_id, match_method)
                    SELECT p.id, $2, '2026-10', p.ubigeo, $1, p.id, 'exact_document'
                      FROM person p WHERE (p.id + $3) % $4 = 0
                       AND ($5 OR p.birth_on < date '2000-01-01')
                    """,
                    batch_id, program, n, 2 + n, program in WITH_MINORS,
                )  # fmt: skip
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def measure(db_url: str, programs: list[str]) -> None:
    engine = make_engine(db_url, pool_size=2)
    maker = make_sessionmaker(engine)
    periods = dict.fromkeys(programs, "2026-10")
    async with maker() as session:
        # The department table's query before the patterns (no person join, 25 groups).
        started = time.perf_counter()
        await run_sql(
            session,
            (
                "SELECT left(e.ubigeo, 2), e.program_code, count(*) FROM enrollment e "
                "JOIN unnest(CAST(:programs AS text[]), CAST(:periods AS text[])) AS w(program, "
                "period) ON w.program = e.program_code AND w.period = e.period GROUP BY 1, 2"
            ),
            {"programs": programs, "periods": list(periods.values())},
        )
        department_s = time.perf_counter() - started
        started = time.perf_counter()
        await stats_service.users_by_district(
            session,
            periods=periods,
            adult_on={p: families.adult_on("2026-10") for p in programs},
        )
        query_s = time.perf_counter() - started
        started = time.perf_counter()
        patterns = await families.compute_user_patterns(session, periods)
        total_s = time.perf_counter() - started
        enrollments = (await run_sql(session, ("SELECT count(*) FROM enrollment"))).scalar_one()
    await engine.dispose()
    districts = stats_service.every_district()
    codes = {d[:n] for d in districts for n in (0, 2, 4, 6)}
    children: dict[str, list[str]] = {}
    for code in codes:
        up = parent_of(code)
        if up is not None:
            children.setdefault(up, []).append(code)
    equations = [{t: 1, **dict.fromkeys(parts, -1)} for t, parts in children.items()]
    print(
        f"districts {len(districts)}, areas per column {len(codes)}, programmes {len(programs)},"
        f" enrollments {enrollments}"
    )
    print(f"department-level count (before) {department_s:7.2f} s")
    print(f"grouped query (all programmes)  {query_s:7.2f} s")
    print(f"query + every pattern           {total_s:7.2f} s")
    cells = hidden = primary = leaks = 0
    for program, pattern in patterns.items():
        district_hidden = {c for c in pattern.hidden if len(c) == 6}
        district_primary = {c for c in pattern.primary if len(c) == 6}
        by_unlisted = {c for c in district_primary if pattern.values.get(c, 0) >= pattern.k}
        cells += len(districts)
        hidden += len(district_hidden)
        primary += len(district_primary)
        leaks += len(linear.determined(equations, pattern.hidden))
        print(
            f"  {program:<10} k={pattern.k:<2} district cells reserved {len(district_hidden):5d}"
            f" (primary {len(district_primary):5d}; for 1..9 unlisted {len(by_unlisted):5d}),"
            f" all areas {len(pattern.hidden):5d}"
        )
    print(f"district cells {cells}, reserved {hidden} (primary {primary}), determined {leaks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--programs", type=int, default=len(PROGRAMS))
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    programs = PROGRAMS[: args.programs]
    db_url = fresh_database("bench_suppress")
    try:
        asyncio.run(seed(db_url, args.people, programs, args.seed))
        asyncio.run(measure(db_url, programs))
    finally:
        drop_database(db_url)


if __name__ == "__main__":
    main()
