"""Score RNU's exported decisions against a synthetic country's truth/ (FORMATS.md)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Tally:
    rows: int = 0
    linked: int = 0
    linked_right: int = 0
    review: int = 0
    unmatched: int = 0
    quarantined: int = 0
    true_in_pgh: int = 0
    found: int = 0  # linked to the right person

    @property
    def precision(self) -> float:
        return self.linked_right / self.linked if self.linked else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.true_in_pgh if self.true_in_pgh else 1.0


@dataclass
class MatchScore:
    overall: Tally = field(default_factory=Tally)
    by_defect: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_file: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    missing_rows: int = 0  # truth rows RNU did not report at all
    outcomes: Counter[str] = field(default_factory=Counter)


def same_person_sets(truth_dir: Path) -> dict[str, str]:
    """Canonical key per PGH key, so a link to a person's duplicate PGH record counts as right."""
    canon: dict[str, str] = {}
    path = truth_dir / "pgh_duplicates.csv"
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                a, b = row["key_a"], row["key_b"]
                root = canon.get(a, a)
                canon[a] = root
                canon[b] = root
    return canon


def score(truth_dir: Path, links_csv: Path) -> MatchScore:
    canon = same_person_sets(truth_dir)
    decided: dict[tuple[str, str], tuple[str, str]] = {}
    with links_csv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            decided[(row["file"], row["row_number"])] = (row["outcome"], row["person_key"])
    result = MatchScore()
    with (truth_dir / "rows.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["file"], row["row_number"])
            defects = [d for d in row["defects"].split(";") if d]
            true_key = row["true_person_key"]
            if key not in decided:
                result.missing_rows += 1
                continue
            outcome, person_key = decided[key]
            result.outcomes[outcome] += 1
            tallies = [result.overall, result.by_file[row["file"]]]
            tallies += [result.by_defect[d] for d in defects] or [result.by_defect["clean"]]
            expected_quarantine = "duplicate_row" in defects or "broken_line" in defects
            right = bool(true_key) and canon.get(person_key, person_key) == canon.get(
                true_key, true_key
            )
            for t in tallies:
                t.rows += 1
                if outcome == "linked":
                    t.linked += 1
                    t.linked_right += right
                elif outcome == "review":
                    t.review += 1
                elif outcome == "unmatched":
                    t.unmatched += 1
                else:
                    t.quarantined += 1
                if true_key and not expected_quarantine:
                    t.true_in_pgh += 1
                    t.found += outcome == "linked" and right
    return result


def print_score(s: MatchScore) -> None:
    def line(name: str, t: Tally) -> str:
        return (
            f"{name:<22} {t.rows:>9,} {t.precision:>9.4f} {t.recall:>8.4f} "
            f"{t.review / t.rows if t.rows else 0:>8.4f} {t.unmatched:>9,} {t.quarantined:>6,}"
        )

    print(f"{'':<22} {'rows':>9} {'precision':>9} {'recall':>8} {'review':>8} "
          f"{'unmatched':>9} {'quar.':>6}")  # fmt: skip
    print(line("overall", s.overall))
    print("-- by defect (recall = linked to the right person among rows whose person is in PGH)")
    for name in sorted(s.by_defect):
        print(line(name, s.by_defect[name]))
    print("-- by file")
    for name in sorted(s.by_file):
        print(line(name, s.by_file[name]))
    print(f"truth rows missing from RNU's export: {s.missing_rows}")
