"""Time `rnu synth`: people/s, rows written/s, peak RSS (self + children) and elapsed."""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from rnu.synth import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnu-synth-") as tmp:
        out = args.out or Path(tmp)
        start = time.perf_counter()
        summary = generate(out, people=args.people, seed=args.seed)
        elapsed = time.perf_counter() - start
    rows = sum(summary.files.values()) + summary.truth_rows
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"people          {summary.people:,}")
    print(f"rows written    {rows:,} (files {sum(summary.files.values()):,} + truth)")
    for name, n in summary.files.items():
        print(f"  {name:<32} {n:>12,}")
    print(f"elapsed         {elapsed:.1f} s")
    print(f"people/s        {summary.people / elapsed:,.0f}")
    print(f"rows/s          {rows / elapsed:,.0f}")
    print(f"peak RSS        self {self_kb / 1024:.0f} MB, largest child {child_kb / 1024:.0f} MB")


if __name__ == "__main__":
    main()
