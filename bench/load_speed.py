"""Ingestion speed end to end: a 1M-row SIS file against a 1M-person PGH.

    RNU_DATA_DIR=/tmp/rnu-load-speed .venv/bin/python bench/load_speed.py

Steps: synthesise a country (`rnu.synth.generate`, reused from ``--work`` when already
there), load its PGH, write a SIS file of ``--rows`` rows (the generator's own SIS rows,
with their defects, topped up with PGH people written in the SIS format), then time:

* a plain COPY of the same rows (the ten SIS fields as text) into an unindexed table and
  into a table with a primary key and two indexes: the floor the pipeline is compared to;
* the pipeline (`usecases.loads.load_file`: parse → normalise → match → COPY → merge →
  commit) in a fresh process, so its peak RSS is its own: index build from PostgreSQL, then
  the load with rows/s per stage;
* the fuzzy-only path: the same rows with their documents removed, as another period.

Targets: end to end >= 0.40x the indexed COPY of the same rows (issue 15) and never under
15,600 rows/s (issue 10); the fuzzy-only path >= 7,979 rows/s (issue 10); peak RSS <= 1.5 GB.
Figures measured while other work runs on the machine are lower than on an idle one; the
script prints the load average so a reader can tell.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import os
import resource
import secrets
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.harness import (
    drop_database,
    fresh_database,
    peak_rss_mb,
    postgres_cpu_seconds,
    server_url,
)
from rnu.embedded import plain_url
from rnu.migrate import upgrade
from rnu.synth import generate
from usecases.loads import load_file, plan_file

SIS_HEADER = (
    "TIPO_DOC,NUM_DOC,APE_PAT,APE_MAT,NOMBRES,FEC_NAC,SEXO,UBIGEO_ADSCRIPCION,REGIMEN,"
    "FEC_AFILIACION"
)
PERIOD, FUZZY_PERIOD = "2026-10", "2026-11"
CHUNK = 20_000


# -- input files ---------------------------------------------------------------------------


def ensure_country(work: Path, people: int, seed: int) -> Path:
    """The synthetic country under ``work`` (generated once per people/seed)."""
    country = work / f"country_{people}_{seed}"
    if not (country / "sis_202610.csv.gz").exists():
        started = time.perf_counter()
        generate(country, people=people, seed=seed, period=PERIOD)
        print(f"synth: {people:,} people in {time.perf_counter() - started:.1f} s")
    return country


def _pgh_as_sis(pgh: Path, lap: int) -> Iterator[str]:
    """PGH people as SIS lines (same fields, other order), with a made-up affiliation date."""
    with pgh.open(encoding="utf-8") as fh:
        next(fh)
        for i, line in enumerate(fh):
            f = line.rstrip("\n").split(";")
            # TI_DOC, NU_DOC, AP_PATERNO, AP_MATERNO, NOMBRES, FE_NACIMIENTO, SEXO, UBIGEO
            year, month, day = 2010 + (i + lap) % 16, 1 + (i + lap) % 12, 1 + (i + 5 * lap) % 28
            yield (
                f"{f[4]},{f[5]},{f[6]},{f[7]},{f[8]},{f[9]},{f[10]},{f[2]},SUBSIDIADO,"
                f"{year}-{month:02d}-{day:02d}"
            )


def write_sis(country: Path, out: Path, rows: int, *, documents: bool) -> int:
    """A SIS file of ``rows`` rows: the generator's rows first, then PGH people."""
    if out.exists():
        return rows
    generated = country / "sis_202610.csv.gz"
    pgh = next(country.glob("pgh_*.csv"))
    written = 0
    tmp = out.with_suffix(".tmp")
    with (
        gzip.open(generated, "rt", encoding="utf-8") as src,
        gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as dst,
    ):
        next(src)
        dst.write(SIS_HEADER + "\n")

        def lines() -> Iterator[str]:
            yield from (line.rstrip("\n") for line in src)
            lap = 0
            while True:  # more than the PGH holds: go round again (other affiliation dates)
                yield from _pgh_as_sis(pgh, lap)
                lap += 1

        for line in lines():
            if written >= rows:
                break
            parts = line.split(",", 2)
            if not documents and len(parts) == 3:
                # the two first fields are TIPO_DOC and NUM_DOC (never quoted)
                line = ",," + parts[2]
            dst.write(line + "\n")
            written += 1
    tmp.rename(out)
    return written


# -- plain COPY baselines ------------------------------------------------------------------


def _sis_chunks(path: Path) -> Iterator[list[tuple[str, ...]]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        chunk: list[tuple[str, ...]] = []
        for n, fields in enumerate(reader, start=1):
            fields = (fields + [""] * 10)[:10]  # a few lines are broken on purpose
            chunk.append((str(n), *fields))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


async def plain_copy(db: str, path: Path, *, indexed: bool) -> float:
    """Seconds spent in COPY alone (reading and splitting the file is not counted)."""
    conn = await asyncpg.connect(plain_url(db))
    columns = ["row_number", *SIS_HEADER.lower().split(",")]
    table = "copy_indexed" if indexed else "copy_plain"
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        key = "bigint PRIMARY KEY" if indexed else "bigint"
        body = ", ".join(f"{c} text" for c in columns[1:])
        await conn.execute(f"CREATE TABLE {table} (row_number {key}, {body})")
        if indexed:
            await conn.execute(f"CREATE INDEX ON {table} (tipo_doc, num_doc)")
            await conn.execute(f"CREATE INDEX ON {table} (ape_pat, ape_mat, nombres)")
        spent = 0.0
        async with conn.transaction():
            for chunk in _sis_chunks(path):
                records = [(int(r[0]), *r[1:]) for r in chunk]
                started = time.perf_counter()
                await conn.copy_records_to_table(table, records=records, columns=columns)
                spent += time.perf_counter() - started
            started = time.perf_counter()
        spent += time.perf_counter() - started  # the commit
        await conn.execute(f"DROP TABLE {table}")
        return spent
    finally:
        await conn.close()


async def _exists(name: str) -> bool:
    conn = await asyncpg.connect(plain_url(server_url()))
    try:
        found = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        return found is not None
    finally:
        await conn.close()


async def _clone(source: str, target: str, *, exact: bool = False) -> str:
    """Copy a database (file-level, fast); ``source`` may be a name or a URL."""
    if "/" in source:
        source = urlsplit(source).path.lstrip("/")
    name = target if exact else f"{target}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(plain_url(server_url()))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    finally:
        await conn.close()
    return urlunsplit(urlsplit(plain_url(server_url()))._replace(path=f"/{name}"))


# -- the pipeline, in its own process ------------------------------------------------------


def run_pipeline(db: str, files: list[tuple[str, str]]) -> dict[str, Any]:
    """Build the PGH index, then load each (path, period); runs in a fresh process."""
    from rnu.db import connect_raw
    from rnu.ingest.matcher import context_for

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        conn = await connect_raw(db)
        try:
            started = time.perf_counter()
            context = await context_for(db, conn)
            out["index_seconds"] = time.perf_counter() - started
            out["index_people"] = len(context.index)
            out["rss_after_index_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        finally:
            await conn.close()
        loads = []
        for path, period in files:
            planned = plan_file(Path(path), "sis", period)
            cpu, pg_cpu = time.process_time(), postgres_cpu_seconds()
            started = time.perf_counter()
            result = await load_file(db, planned)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            await asyncio.sleep(1.0)  # closed backends reach the postmaster's cutime
            pg_after = postgres_cpu_seconds()
            loads.append(
                {
                    "file": Path(path).name,
                    "wall": wall,
                    "cpu": cpu,
                    "pg_cpu": pg_after - pg_cpu if pg_after is not None and pg_cpu else None,
                    "rows_read": result.rows_read,
                    "rows_loaded": result.rows_loaded,
                    "rows_quarantined": result.rows_quarantined,
                    "outcomes": result.outcomes,
                    "timings": result.timings,
                    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            )
        out["loads"] = loads
        return out

    return asyncio.run(go())


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>12,.0f} rows/s" if seconds > 0 else f"{'-':>12} rows/s"


def _print_load(load: dict[str, Any]) -> None:
    rows = load["rows_read"]
    print(f"  {load['file']}: {rows:,} rows read, {load['rows_loaded']:,} loaded, "
          f"{load['rows_quarantined']:,} quarantined")  # fmt: skip
    outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(load["outcomes"].items()))
    print(f"    outcomes: {outcomes}")
    for stage, seconds in load["timings"].items():
        print(f"    {stage:<22} {seconds:8.2f} s {_rate(rows, seconds)}")
    print(f"    {'end to end (wall)':<22} {load['wall']:8.2f} s {_rate(rows, load['wall'])}")
    # CPU of the Python process alone (both threads): a figure contention hardly changes
    print(f"    {'Python CPU':<22} {load['cpu']:8.2f} s {_rate(rows, load['cpu'])}")
    if load.get("pg_cpu") is not None:
        # every backend of the bench's own server: the load's and the checks' after it
        print(f"    {'PostgreSQL CPU (all)':<22} {load['pg_cpu']:8.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fuzzy-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rnu-load-speed"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse-pgh",
        action="store_true",
        help="keep the loaded PGH as a template database and clone it on later runs",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    country = ensure_country(args.work, args.people, args.seed)
    sis = args.work / f"sis_{PERIOD.replace('-', '')}_{args.people}_{args.rows}.csv.gz"
    fuzzy = (
        args.work / f"sis_{FUZZY_PERIOD.replace('-', '')}_{args.people}_{args.fuzzy_rows}.csv.gz"
    )
    write_sis(country, sis, args.rows, documents=True)
    if args.fuzzy_rows:
        write_sis(country, fuzzy, args.fuzzy_rows, documents=False)

    template = f"rnu_bench_load_pgh_{args.people}_{args.seed}" if args.reuse_pgh else None
    pgh_note = ""
    if template and asyncio.run(_exists(template)):
        db = asyncio.run(_clone(template, "rnu_bench_load"))
        upgrade(db)  # the template may predate the newest migrations
        pgh_note = f"PGH: cloned from the template database {template}"
    else:
        db = fresh_database("rnu_bench_load")
    try:
        if not pgh_note:
            pgh = plan_file(next(country.glob("pgh_*.csv")))
            started = time.perf_counter()
            pgh_result = asyncio.run(load_file(db, pgh))
            pgh_seconds = time.perf_counter() - started
            pgh_note = (
                f"PGH: {pgh_result.rows_read:,} rows loaded in {pgh_seconds:.1f} s "
                f"({_rate(pgh_result.rows_read, pgh_seconds).strip()})"
            )
            if template:
                asyncio.run(_clone(db, template, exact=True))
        plain = asyncio.run(plain_copy(db, sis, indexed=False))
        pg_before = postgres_cpu_seconds()
        indexed = asyncio.run(plain_copy(db, sis, indexed=True))
        pg_after = postgres_cpu_seconds()
        indexed_pg_cpu = pg_after - pg_before if pg_after is not None and pg_before else None
        files = [(str(sis), PERIOD)]
        if args.fuzzy_rows:
            files.append((str(fuzzy), FUZZY_PERIOD))
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            res = pool.submit(run_pipeline, db, files).result()
    finally:
        if not args.keep:
            drop_database(db)

    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (contention)")
    print(pgh_note)
    print(f"plain COPY of the {args.rows:,} SIS rows (10 text fields + row number):")
    print(f"  unindexed table            {plain:8.2f} s {_rate(args.rows, plain)}")
    print(f"  primary key + two indexes  {indexed:8.2f} s {_rate(args.rows, indexed)}")
    if indexed_pg_cpu is not None:
        print(f"    PostgreSQL CPU of the indexed COPY {indexed_pg_cpu:8.2f} s")
    index_rate = _rate(res["index_people"], res["index_seconds"]).strip()
    print(f"PGH index built from PostgreSQL: {res['index_people']:,} people in "
          f"{res['index_seconds']:.1f} s ({index_rate}); "
          f"peak RSS then {res['rss_after_index_mb']:,.0f} MB")  # fmt: skip
    print("pipeline (index already built, as in a worker that loads many files):")
    for load in res["loads"]:
        _print_load(load)
    main_load = res["loads"][0]
    # The end to end stops at the commit; the integrity checks that `rnu load` runs
    # next (on the committed batch, in their own transactions) are shown apart.
    checks = main_load["timings"].get("checks after commit", 0.0)
    e2e = main_load["rows_read"] / (main_load["wall"] - checks)
    with_index = main_load["rows_read"] / (main_load["wall"] - checks + res["index_seconds"])
    with_checks = main_load["rows_read"] / main_load["wall"]
    print("\nsummary")
    print(f"  end to end (to commit)   {e2e:>10,.0f} rows/s   (floor 15,600); "
          f"with the index build {with_index:,.0f} rows/s; "
          f"with the checks after commit {with_checks:,.0f} rows/s")  # fmt: skip
    print(f"  vs plain COPY unindexed  {e2e / (args.rows / plain):>10.3f}x")
    print(f"  vs plain COPY indexed    {e2e / (args.rows / indexed):>10.3f}x   (target >= 0.40x)")
    if len(res["loads"]) > 1:
        fz = res["loads"][1]
        fz_wall = fz["wall"] - fz["timings"].get("checks after commit", 0.0)
        print(f"  fuzzy-only (to commit)   {fz['rows_read'] / fz_wall:>10,.0f} rows/s   "
              f"(floor 7,979); with the checks after commit "
              f"{fz['rows_read'] / fz['wall']:,.0f} rows/s")  # fmt: skip
    print(f"  peak RSS of the pipeline {res['loads'][-1]['rss_mb']:>10,.0f} MB   "
          f"(target <= 1,536); bench process {peak_rss_mb():,.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
