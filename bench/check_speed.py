"""The integrity checks after a 1M-row SIS load: time and CPU per statement, and a baseline.

    RNU_DATA_DIR=/tmp/rnu-checks .venv/bin/python bench/check_speed.py

What `rnu load` runs after a program file commits (`check_committed_batch`), measured on its
own: the bench loads the SIS file of `bench/load_speed.py` (same ``--people``, ``--rows``,
``--seed`` and ``--work``; files and the PGH template database are reused when there) once
into a template database with the checks skipped, then for each run clones that template
(seconds) and runs the checks on the clone, twice: the first run after the load, and the
rerun that must change nothing. Every statement is listed with its wall seconds and the CPU
of the check's PostgreSQL backend (from /proc: the server must be this machine's, as the
embedded one is), so contention from other work on the machine shows as wall time only.

Baseline, same run and same database: a plain ``INSERT … SELECT`` of the flags the checks
wrote into an empty table with flag's columns and indexes (``LIKE flag INCLUDING ALL``), in
one transaction: writing that many rows into such a table, with nothing else.

Autovacuum is switched off for the registry's tables of the template (and so of its clones):
each run starts from the state the load's commit left, as the checks after `rnu load` do, and
no background vacuum competes with the measured backend.

Target (issue 15): the checks after a 1M-row load in <= 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

import usecases.loads
from bench.harness import drop_database, fresh_database
from bench.load_speed import PERIOD, _clone, _exists, ensure_country, write_sis
from rnu.db import connect_raw
from rnu.embedded import plain_url
from rnu.integrity.service import CheckResult, check_committed_batch
from rnu.migrate import upgrade
from rnu.sqlplans import Wrapping
from usecases.loads import load_file, plan_file

# Tables the load writes or the checks read: no autovacuum in the template (see above).
_TABLES = ("roll_row", "enrollment", "person", "household", "household_member", "flag")
_TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a PostgreSQL backend of this machine has used."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class Timed(Wrapping):
    """A connection that records wall and backend CPU seconds of each statement it runs."""

    pid: int = 0
    statements: list[tuple[str, float, float | None]] = field(default_factory=list)

    async def _run(self, method: str, sql: str, *args: Any, **kwargs: Any) -> Any:
        cpu, started = backend_cpu(self.pid), time.perf_counter()
        out = await getattr(self.conn, method)(sql, *args, **kwargs)
        wall, after = time.perf_counter() - started, backend_cpu(self.pid)
        spent = after - cpu if after is not None and cpu is not None else None
        self.statements.append((" ".join(sql.split()), wall, spent))
        return out

    async def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("executemany", sql, *args, **kwargs)


async def _skip_checks(conn: asyncpg.Connection, batch_id: int) -> None:
    """Stands in for `usecases.loads._check_after` while the template is loaded."""


def ensure_loaded(args: argparse.Namespace) -> str:
    """The template database: the PGH and the SIS file committed, no check run yet."""
    name = f"rnu_bench_checks_{args.people}_{args.seed}_{args.rows}"
    if asyncio.run(_exists(name)):
        return name
    country = ensure_country(args.work, args.people, args.seed)
    sis = args.work / f"sis_{PERIOD.replace('-', '')}_{args.people}_{args.rows}.csv.gz"
    write_sis(country, sis, args.rows, documents=True)
    pgh = f"rnu_bench_load_pgh_{args.people}_{args.seed}"  # bench/load_speed.py --reuse-pgh
    if asyncio.run(_exists(pgh)):
        db = asyncio.run(_clone(pgh, "rnu_bench_checks_load"))
        upgrade(db)
    else:
        db = fresh_database("rnu_bench_checks_load")
        started = time.perf_counter()
        asyncio.run(load_file(db, plan_file(next(country.glob("pgh_*.csv")))))
        print(f"PGH loaded in {time.perf_counter() - started:.1f} s")
        asyncio.run(_clone(db, pgh, exact=True))
    try:
        asyncio.run(_no_autovacuum(db))
        started = time.perf_counter()
        check_after = usecases.loads._check_after
        usecases.loads._check_after = _skip_checks  # the checks are what this bench times
        try:
            result = asyncio.run(load_file(db, plan_file(sis, "sis", PERIOD)))
        finally:
            usecases.loads._check_after = check_after
        print(f"SIS file loaded without checks in {time.perf_counter() - started:.1f} s: "
              f"{result.rows_read:,} rows, {result.outcomes}")  # fmt: skip
        asyncio.run(_clone(db, name, exact=True))
    finally:
        drop_database(db)
    return name


async def _no_autovacuum(db: str) -> None:
    conn = await asyncpg.connect(plain_url(db))
    try:
        for table in _TABLES:
            await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
    finally:
        await conn.close()


def _print_run(title: str, wall: float, cpu: float | None, results: list[CheckResult]) -> None:
    cpu_text = f"{cpu:.2f}" if cpu is not None else "?"
    print(f"\n{title}: {wall:.2f} s wall, {cpu_text} CPU-s of the backend")
    for r in results:
        found = ", ".join(f"{k} {v:,}" for k, v in sorted(r.found.items()))
        print(f"  {r.program} {r.period}: new {r.inserted:,}, changed {r.updated:,}, "
              f"resolved {r.resolved:,}; found {found}")  # fmt: skip


def _print_statements(timed: Timed, *, at_least: float) -> None:
    print(f"  {'wall s':>8} {'CPU s':>8}  statement (those over {at_least} s of wall)")
    for sql, wall, cpu in timed.statements:
        if wall >= at_least:
            cpu_text = f"{cpu:8.2f}" if cpu is not None else f"{'?':>8}"
            print(f"  {wall:8.2f} {cpu_text}  {sql[:100]}")


async def measure(db: str, *, at_least: float) -> None:
    conn = await connect_raw(db)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        batch = await conn.fetchval(
            "SELECT max(id) FROM load_batch WHERE source = 'SIS' AND status = 'committed'"
        )
        figures = {}
        for title in ("checks after the load", "rerun (must change nothing)"):
            timed = Timed(conn, pid=pid)
            cpu, started, python = backend_cpu(pid), time.perf_counter(), time.process_time()
            results = await check_committed_batch(timed, batch)
            wall, after = time.perf_counter() - started, backend_cpu(pid)
            python = time.process_time() - python
            spent = after - cpu if after is not None and cpu is not None else None
            figures[title] = (wall, spent)
            _print_run(title, wall, spent, results)
            # the unmatched rows' twins are compared in Python (rapidfuzz), on this process
            print(f"  Python CPU of the check (this process): {python:.2f} s")
            _print_statements(timed, at_least=at_least)
        flags = await conn.fetchval("SELECT count(*) FROM flag")
        await conn.execute("CREATE TABLE bench_flag_copy (LIKE flag INCLUDING ALL)")
        cpu, started = backend_cpu(pid), time.perf_counter()
        async with conn.transaction():
            await conn.execute("INSERT INTO bench_flag_copy SELECT * FROM flag")
        wall, after = time.perf_counter() - started, backend_cpu(pid)
        base_cpu = after - cpu if after is not None and cpu is not None else None
        await conn.execute("DROP TABLE bench_flag_copy")
    finally:
        await conn.close()
    indexes = "primary key, unique (kind, program, period, subject), queue, person, row"
    base_text = f"{base_cpu:.2f}" if base_cpu is not None else "?"
    print(f"\nbaseline: INSERT … SELECT of the {flags:,} flags into an empty copy of flag "
          f"({indexes}): {wall:.2f} s wall, {base_text} CPU-s")  # fmt: skip
    print("\nsummary (target: checks after a 1M-row load <= 30 s)")
    for title, (check_wall, check_cpu) in figures.items():
        ratio = (
            f"{check_cpu / base_cpu:.2f}x the baseline's CPU"
            if check_cpu is not None and base_cpu
            else ""
        )
        cpu_text = f"{check_cpu:.2f}" if check_cpu is not None else "?"
        print(f"  {title:<28} {check_wall:7.2f} s wall {cpu_text:>7} CPU-s  {ratio}")
    print(f"  load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (contention)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rnu-load-speed"))
    parser.add_argument("--runs", type=int, default=1, help="measured runs, each on a clone")
    parser.add_argument(
        "--at-least", type=float, default=0.2, help="list statements of at least this wall time"
    )
    parser.add_argument("--keep", action="store_true", help="keep the last clone")
    args = parser.parse_args()
    template = ensure_loaded(args)
    print(f"template database {template} (the SIS file committed, no check run)")
    for run in range(args.runs):
        db = asyncio.run(_clone(template, "rnu_bench_checks_run"))
        try:
            print(f"\n== run {run + 1} of {args.runs} on {urlsplit(db).path.lstrip('/')}")
            asyncio.run(measure(db, at_least=args.at_least))
        finally:
            if not (args.keep and run == args.runs - 1):
                drop_database(db)


if __name__ == "__main__":
    main()
