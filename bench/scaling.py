"""How the cost of a load and its checks grows: time and memory per stage, fitted exponents.

    RNU_DATA_DIR=/tmp/rnu-scaling .venv/bin/python bench/scaling.py \\
        --people 250000 1000000 --rows 100000 300000 1000000 --plot docs/performance-scaling.png

For each PGH size a synthetic country is generated (`rnu.synth`, cached under ``--work``)
and its PGH loaded once into a template database (kept, so later runs clone it). For each
file size a SIS file is written from that country (bench/load_speed.py's writer), and a
fresh process loads it into a clone of the template: index build, parse, match, stage,
COPY, merge, finish, then the integrity checks `rnu load` runs after the commit. Each
stage's wall time, the Python and PostgreSQL CPU, and the process's peak RSS are printed,
then the exponent b of a least-squares fit t = a·n^b per stage (rows for the load stages,
people for the index). The target is b <= 1.1 for every stage (issue 15).

Wall times on a shared machine are inflated by the neighbours (the load average is
printed); the CPU columns and the exponents, which compare runs of one sitting, hold better.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import drop_database, fresh_database
from bench.load_speed import _clone, _exists, ensure_country, run_pipeline, write_sis
from rnu.db import connect_raw
from rnu.migrate import upgrade
from usecases.loads import load_file, plan_file

PERIOD = "2026-10"
LOAD_STAGES = ("parse", "match", "stage", "copy", "merge", "finish", "checks after commit")


def _template(country: Path, people: int, seed: int) -> str:
    """A database holding the country's PGH, loaded once and cloned for every run."""
    name = f"rnu_bench_scaling_pgh_{people}_{seed}"
    for known in (name, f"rnu_bench_load_pgh_{people}_{seed}"):  # load_speed's is the same
        if asyncio.run(_exists(known)):
            return known
    db = fresh_database("rnu_bench_scaling")
    started = time.perf_counter()
    asyncio.run(load_file(db, plan_file(next(country.glob("pgh_*.csv")))))
    print(f"  PGH of {people:,} loaded in {time.perf_counter() - started:.0f} s", flush=True)
    asyncio.run(_clone(db, name, exact=True))
    drop_database(db)
    return name


def measure(work: Path, people: int, rows: int, seed: int) -> dict[str, Any]:
    """One load of `rows` SIS rows against a PGH of `people`, in a fresh process."""
    country = ensure_country(work, people, seed)
    sis = work / f"sis_{PERIOD.replace('-', '')}_{people}_{rows}.csv.gz"
    write_sis(country, sis, rows, documents=True)
    template = _template(country, people, seed)
    db = asyncio.run(_clone(template, "rnu_bench_scaling"))
    try:
        upgrade(db)
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            res: dict[str, Any] = pool.submit(run_pipeline, db, [(str(sis), PERIOD)]).result()
        flags = asyncio.run(_count(db, "SELECT count(*) FROM flag"))
    finally:
        drop_database(db)
    load = res["loads"][0]
    out: dict[str, Any] = {
        "people": people,
        "rows": rows,
        "index build": res["index_seconds"],
        "index RSS MB": res["rss_after_index_mb"],
        "peak RSS MB": load["rss_mb"],
        "end to end": load["wall"],
        "Python CPU": load["cpu"],
        "PostgreSQL CPU": load.get("pg_cpu"),
        "flags": flags,
    }
    out.update({stage: load["timings"].get(stage) for stage in LOAD_STAGES})
    return out


async def _count(db: str, sql: str) -> int:
    conn = await connect_raw(db)
    try:
        value: int = await conn.fetchval(sql)
        return value
    finally:
        await conn.close()


def exponent(points: list[tuple[float, float]]) -> float | None:
    """b of the least-squares fit log t = log a + b log n (None with fewer than 2 sizes)."""
    pts = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t and t > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(a, b) of t = a·n^b, for extrapolating."""
    b = exponent(points)
    if b is None:
        return None
    pts = [(math.log(n), math.log(t)) for n, t in points if t and t > 0]
    log_a = sum(y - b * x for x, y in pts) / len(pts)
    return math.exp(log_a), b


def report(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Print the table and the exponents; return the fits (for the plot and the docs)."""
    columns = ["people", "rows", "index build", *LOAD_STAGES, "end to end", "Python CPU",
               "PostgreSQL CPU", "flags", "index RSS MB", "peak RSS MB"]  # fmt: skip
    print("\n" + " | ".join(f"{c:>12}" for c in columns))
    for r in results:
        cells = []
        for c in columns:
            v = r.get(c)
            cells.append(f"{v:>12,}" if isinstance(v, int) else f"{v or 0:>12.2f}")
        print(" | ".join(cells))
    fits: dict[str, Any] = {}
    print("\nfitted exponent b of t = a·n^b (target b <= 1.1)")
    for people in sorted({r["people"] for r in results}):
        same = [r for r in results if r["people"] == people]
        for stage in (*LOAD_STAGES, "end to end", "Python CPU", "PostgreSQL CPU"):
            found = fit([(r["rows"], r[stage]) for r in same if r.get(stage)])
            if found:
                fits[f"{stage} @ PGH {people}"] = found
                verdict = "ok" if found[1] <= 1.1 else "ABOVE TARGET"
                print(f"  {stage:<22} vs rows (PGH {people:>9,}): b = {found[1]:5.2f}  {verdict}")
        # a file larger than its PGH repeats people: flags grow faster than rows there
        found = fit([(r["flags"], r["checks after commit"]) for r in same if r.get("flags")])
        if found:
            fits[f"checks per flag @ PGH {people}"] = found
            verdict = "ok" if found[1] <= 1.1 else "ABOVE TARGET"
            label = "checks after commit"
            print(f"  {label:<22} vs flags (PGH {people:>8,}): b = {found[1]:5.2f}  {verdict}")
    for rows in sorted({r["rows"] for r in results}):
        same = [r for r in results if r["rows"] == rows]
        found = fit([(r["people"], r["index build"]) for r in same])
        if found:
            fits[f"index build @ rows {rows}"] = found
            print(f"  {'index build':<22} vs people (rows {rows:,}): b = {found[1]:5.2f}")
    return fits


def plot(results: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for people in sorted({r["people"] for r in results}):
        same = sorted((r for r in results if r["people"] == people), key=lambda r: r["rows"])
        for stage in ("match", "merge", "finish", "checks after commit", "end to end"):
            xs = [r["rows"] for r in same if r.get(stage)]
            ys = [r[stage] for r in same if r.get(stage)]
            if len(xs) >= 2:
                ax.plot(xs, ys, marker="o", label=f"{stage} (PGH {people:,})")
    if ax.lines:
        xs = sorted({r["rows"] for r in results})
        base = min(r["end to end"] for r in results if r["rows"] == xs[0])
        ax.plot(xs, [base * (x / xs[0]) for x in xs], "k--", lw=0.8, label="linear")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows in the SIS file")
    ax.set_ylabel("seconds (wall, shared 2-core machine)")
    ax.set_title("RNU load and checks: time per stage")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot: {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[250_000, 1_000_000, 3_000_000])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rnu-scaling"))
    parser.add_argument("--plot", type=Path, help="write the curves to this PNG")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument(
        "--from-json", type=Path, nargs="+", help="report and plot earlier runs' measurements"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for earlier in args.from_json or ():
        results.extend(json.loads(earlier.read_text()))
    for people in args.people if not args.from_json else ():
        for rows in args.rows:
            print(f"PGH {people:,} people, SIS {rows:,} rows ...", flush=True)
            results.append(measure(args.work, people, rows, args.seed))
            print(f"  {json.dumps(results[-1], default=str)}", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (contention)")
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
