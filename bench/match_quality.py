"""Matching quality end to end: synth a country, load it, score every program row vs truth/.

    .venv/bin/python bench/match_quality.py --people 200000 --seed 11

Prints precision and recall of automatic links overall, per defect type and per file, the
share sent to review, and the time of each stage. Targets (issue 3): precision >= 0.995 and
recall >= 0.99 on auto-links, review <= 2 % of rows, recall >= 0.95 on every defect type.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Stopwatch, drop_database, fresh_database, peak_rss_mb
from bench.scoring import print_score, score
from rnu.ingest.links import export_links
from rnu.synth import generate
from usecases.loads import load_file, plan_directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    watch = Stopwatch()
    with tempfile.TemporaryDirectory(prefix="rnu-bench-") as tmp:
        country = Path(tmp) / "pais"
        with watch.time("synth"):
            generate(country, people=args.people, seed=args.seed)
        db = fresh_database("rnu_bench_match")
        try:
            rows_loaded = 0
            with watch.time("load"):
                for planned in plan_directory(country):
                    result = asyncio.run(load_file(db, planned))
                    if planned.sector not in {"pgh", "deaths"}:
                        rows_loaded += result.rows_read
            links = Path(tmp) / "links.csv"
            asyncio.run(export_links(db, links))
            with watch.time("score"):
                s = score(country / "truth", links)
        finally:
            if not args.keep:
                drop_database(db)
    print(f"\nSynthetic country: {args.people:,} people, seed {args.seed}; "
          f"{rows_loaded:,} program rows")  # fmt: skip
    print_score(s)
    print("\nTimings: " + ", ".join(f"{k} {v:.1f} s" for k, v in watch.marks.items()))
    print(f"Peak RSS: {peak_rss_mb():,.0f} MB")
    o = s.overall
    print(
        f"\nTargets: precision {o.precision:.4f} (>= 0.995), recall {o.recall:.4f} (>= 0.99), "
        f"review share {o.review / o.rows:.4f} (<= 0.02), worst defect recall "
        f"{min(t.recall for n, t in s.by_defect.items() if n not in {'clean'}):.4f} (>= 0.95)"
    )


if __name__ == "__main__":
    main()
