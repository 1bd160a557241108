"""Matching quality end to end: synth a country, load it, score every program row vs truth/.

    .venv/bin/python bench/match_quality.py --people 50000 --seed 11

Prints precision and recall of automatic links overall, per defect kind (the harsher
padrón of `rnu synth`: namesake traps, twins, father/son, a mother's or neighbour's DNI,
shortened and abbreviated given names, married forms, swapped columns, Andean spellings,
OCR slips, birth-date slips) and per file; the false-link rate of rows whose person is not
in the PGH (namesake traps above all); and PGH-duplicate pair precision and recall from
the PGH-duplicate check, with the twins and father/son pairs it wrongly paired.

Targets (issue 10), printed, never asserted: precision >= 0.998, recall >= 0.99 overall,
recall >= 0.97 per defect kind, namesake-trap false links <= 1 %, PGH duplicates pair
recall >= 0.95 at precision >= 0.99. CPU seconds of this process per stage are printed
beside wall time (the database's own CPU is not in them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Stopwatch, drop_database, fresh_database, peak_rss_mb
from bench.scoring import (
    MatchScore,
    PairScore,
    print_pairs,
    print_score,
    print_why_missed,
    score,
    score_pairs,
    why_missed,
)
from rnu.db import connect_raw
from rnu.ingest.links import export_links
from rnu.integrity.pgh_duplicates import check_pgh_duplicates
from rnu.synth import generate
from usecases.loads import load_file, plan_directory

# Kinds whose rows are about people outside the PGH: scored by false links, not recall.
OUTSIDE_KINDS = frozenset({"namesake_trap"})
# Not matching defects: the row is (or carries) a copy, or is not a row at all.
NOT_SCORED = frozenset({"duplicate_row", "broken_line", "clean"})


async def pgh_pairs(db: str) -> dict[str, set[frozenset[str]]]:
    """PGH-duplicate pairs the check flagged, by the engine's outcome."""
    conn = await connect_raw(db)
    try:
        rows = await conn.fetch(
            "SELECT evidence->'facts'->'keys'->>0, evidence->'facts'->'keys'->>1, "
            "evidence->'facts'->>'outcome' FROM flag "
            "WHERE kind = 'pgh_duplicate' AND status = 'open'"
        )
    finally:
        await conn.close()
    out: dict[str, set[frozenset[str]]] = {"linked": set(), "linked + review": set()}
    for a, b, outcome in rows:
        pair = frozenset((a, b))
        out["linked + review"].add(pair)
        if outcome == "linked":
            out["linked"].add(pair)
    return out


async def review_candidates(db: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The candidates each review row was queued with, by (file, row number)."""
    conn = await connect_raw(db)
    try:
        rows = await conn.fetch(
            "SELECT b.file_name, r.row_number, m.candidates FROM match_review_item m "
            "JOIN roll_row r ON r.id = m.roll_row_id JOIN load_batch b ON b.id = r.batch_id"
        )
    finally:
        await conn.close()
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for file_name, row_number, candidates in rows:
        value = json.loads(candidates) if isinstance(candidates, str) else candidates
        out[(file_name, str(row_number))] = list(value or [])
    return out


def targets(s: MatchScore, pairs: PairScore) -> None:
    """One line per target of issue 10, with the measured figure and ok / SHORT."""
    o = s.overall

    def line(name: str, value: float, goal: str, ok: bool) -> None:
        print(f"  {name:<52} {value:>8.4f}  {goal:<8} {'ok' if ok else 'SHORT'}")

    print("\nTargets (issue 10)")
    line("precision, overall", o.precision, ">= 0.998", o.precision >= 0.998)
    line("recall, overall", o.recall, ">= 0.99", o.recall >= 0.99)
    kinds = {n: t for n, t in s.by_defect.items() if n not in NOT_SCORED | OUTSIDE_KINDS}
    for name, t in sorted(kinds.items(), key=lambda kv: kv[1].recall):
        if t.true_in_pgh:
            line(f"recall, {name} ({t.true_in_pgh:,} rows)", t.recall, ">= 0.97", t.recall >= 0.97)
    trap = s.by_defect.get("namesake_trap")
    if trap is not None and trap.outside:
        rate = trap.false_link_rate
        line(f"false links, namesake_trap ({trap.outside:,} rows)", rate, "<= 0.01", rate <= 0.01)
    line("PGH duplicates, pair recall", pairs.recall, ">= 0.95", pairs.recall >= 0.95)
    line("PGH duplicates, pair precision", pairs.precision, ">= 0.99", pairs.precision >= 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    watch = Stopwatch()
    cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="rnu-bench-") as tmp:
        country = Path(tmp) / "pais"
        with watch.time("synth"):
            generate(country, people=args.people, seed=args.seed)
        db = fresh_database("rnu_bench_match")
        try:
            rows_loaded = 0
            started = time.process_time()
            with watch.time("load"):
                for planned in plan_directory(country):
                    result = asyncio.run(load_file(db, planned))
                    if planned.sector not in {"pgh", "deaths"}:
                        rows_loaded += result.rows_read
            cpu["load"] = time.process_time() - started
            started = time.process_time()
            with watch.time("pgh duplicates"):
                asyncio.run(check_pgh_duplicates(db, include_review=True))
                found = asyncio.run(pgh_pairs(db))
            cpu["pgh duplicates"] = time.process_time() - started
            links = Path(tmp) / "links.csv"
            asyncio.run(export_links(db, links))
            review = asyncio.run(review_candidates(db))
            with watch.time("score"):
                s = score(country / "truth", links)
                pairs = {k: score_pairs(country / "truth", v) for k, v in found.items()}
                why = why_missed(country / "truth", links, review)
        finally:
            if not args.keep:
                drop_database(db)
    print(f"\nSynthetic country: {args.people:,} people, seed {args.seed}; "
          f"{rows_loaded:,} program rows")  # fmt: skip
    print_score(s)
    print()
    for label, p in pairs.items():
        print_pairs(label, p)
    print_why_missed(why)
    targets(s, pairs["linked"])
    print("\nTimings (wall): " + ", ".join(f"{k} {v:.1f} s" for k, v in watch.marks.items()))
    print("CPU of this process: " + ", ".join(f"{k} {v:.1f} s" for k, v in cpu.items()))
    print(f"Peak RSS: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
