"""Score RNU's exported decisions against a synthetic country's truth/ (rnu.synth.truth).

Row links: precision and recall overall, per file and per defect kind (every code of
truth/codes.csv), and for rows whose person is not in the PGH the false-link rate (any
link is false: a namesake trap linked to its namesake accuses someone else). PGH
duplicates: pair precision and recall against truth/pgh_duplicates.csv, and how many of
the look-alike pairs of truth/pgh_kin.csv (twins, father/son) were paired.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
    outside: int = 0  # rows whose person is not in the PGH (expected unmatched)
    outside_linked: int = 0  # ... linked to someone anyway: a false link

    @property
    def false_link_rate(self) -> float:
        return self.outside_linked / self.outside if self.outside else 0.0

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
                elif not true_key and not expected_quarantine:
                    t.outside += 1
                    t.outside_linked += outcome == "linked"
    return result


def print_score(s: MatchScore) -> None:
    def line(name: str, t: Tally) -> str:
        false = f"{t.false_link_rate:>8.4f}" if t.outside else f"{'—':>8}"
        return (
            f"{name:<22} {t.rows:>9,} {t.precision:>9.4f} {t.recall:>8.4f} "
            f"{t.review / t.rows if t.rows else 0:>8.4f} {t.unmatched:>9,} {t.quarantined:>6,}"
            f" {false}"
        )

    print(f"{'':<22} {'rows':>9} {'precision':>9} {'recall':>8} {'review':>8} "
          f"{'unmatched':>9} {'quar.':>6} {'false ln':>8}")  # fmt: skip
    print(line("overall", s.overall))
    print("-- by defect (recall = linked to the right person among rows whose person is in PGH;")
    print("   false ln = linked to anyone among rows whose person is not in the PGH)")
    for name in sorted(s.by_defect):
        print(line(name, s.by_defect[name]))
    print("-- by file")
    for name in sorted(s.by_file):
        print(line(name, s.by_file[name]))
    print(f"truth rows missing from RNU's export: {s.missing_rows}")


@dataclass
class PairScore:
    """PGH-duplicate pairs found against the truth."""

    truth: int
    found: int
    right: int  # found pairs joining two records of one person
    recalled: int  # truth pairs found
    kin_paired: dict[str, int]
    kin_total: dict[str, int]

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.recalled / self.truth if self.truth else 1.0


def read_pairs(path: Path) -> dict[frozenset[str], str]:
    """Pairs of PGH keys in a truth file (`key_a,key_b[,relation]`) -> relation."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {
            frozenset((r["key_a"], r["key_b"])): r.get("relation") or "duplicate"
            for r in csv.DictReader(fh)
        }


def score_pairs(truth_dir: Path, found: set[frozenset[str]]) -> PairScore:
    """Pair precision/recall; a pair counts right when it joins two records of one person
    (the truth pairs' transitive closure: a person registered three times)."""
    canon = same_person_sets(truth_dir)
    true = read_pairs(truth_dir / "pgh_duplicates.csv")
    kin = read_pairs(truth_dir / "pgh_kin.csv")

    def same(pair: frozenset[str]) -> bool:
        a, b = sorted(pair)
        return canon.get(a, a) == canon.get(b, b)

    kin_paired: Counter[str] = Counter(kin[p] for p in found if p in kin)
    return PairScore(
        truth=len(true),
        found=len(found),
        right=sum(1 for pair in found if same(pair)),
        recalled=sum(1 for pair in true if pair in found),
        kin_paired=dict(kin_paired),
        kin_total=dict(Counter(kin.values())),
    )


def print_pairs(label: str, p: PairScore) -> None:
    kin = ", ".join(f"{k} {p.kin_paired.get(k, 0)}/{n}" for k, n in sorted(p.kin_total.items()))
    print(
        f"PGH duplicates ({label}): truth {p.truth:,} pairs, found {p.found:,}, right "
        f"{p.right:,}: precision {p.precision:.4f}, recall {p.recall:.4f}; "
        f"look-alikes paired (false): {kin or 'none in truth'}"
    )


# Levels that corroborate names on their own (engine._DATE_AGREE, engine._DOC_AGREE).
_DATE_AGREE = frozenset({"exact", "day_month_swap", "year_off_one", "one_component"})
_DOC_AGREE = frozenset({"equal", "transposed", "one_digit"})


def _held_because(agreements: dict[str, str]) -> str:
    """Which rule a review candidate's stored levels point to (read from the levels alone)."""
    if agreements.get("birth_date") == "different" or agreements.get("nombres") in {
        "different",
        "first_only",
    }:
        return "a contradiction (date years off / other given name)"
    if (
        agreements.get("birth_date") not in _DATE_AGREE
        and agreements.get("document") not in _DOC_AGREE
    ):
        return "names alone (no agreeing date or document)"
    return "weight between the thresholds, or a close runner-up"


def why_missed(
    truth_dir: Path,
    links_csv: Path,
    review: dict[tuple[str, str], list[dict[str, Any]]],
) -> dict[str, Counter[str]]:
    """Per defect kind, why each row whose person is in the PGH was not linked to them:
    quarantined, linked to someone else, unmatched, or in review (with the rule the true
    candidate's levels point to, and whether the true person was the first candidate)."""
    canon = same_person_sets(truth_dir)
    decided: dict[tuple[str, str], tuple[str, str]] = {}
    with links_csv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            decided[(row["file"], row["row_number"])] = (row["outcome"], row["person_key"])
    out: dict[str, Counter[str]] = defaultdict(Counter)
    with (truth_dir / "rows.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["file"], row["row_number"])
            true_key = row["true_person_key"]
            defects = [d for d in row["defects"].split(";") if d] or ["clean"]
            if (
                not true_key
                or key not in decided
                or {"duplicate_row", "broken_line"} & set(defects)
            ):
                continue
            outcome, person_key = decided[key]
            true_canon = canon.get(true_key, true_key)
            if outcome == "linked" and canon.get(person_key, person_key) == true_canon:
                continue
            if outcome != "review":
                reason = "linked to someone else" if outcome == "linked" else outcome
            else:
                cands = review.get(key, [])
                keys = [canon.get(c["person_key"], c["person_key"]) for c in cands]
                if true_canon not in keys:
                    reason = "review, the true person not among the candidates"
                else:
                    at = keys.index(true_canon)
                    place = "first" if at == 0 else "not first"
                    reason = f"review ({place}): {_held_because(cands[at]['agreements'])}"
            for d in defects:
                out[d][reason] += 1
    return out


def print_why_missed(why: dict[str, Counter[str]]) -> None:
    print("\nWhy rows were missed (rows whose person is in the PGH, not linked to them)")
    for kind in sorted(why):
        total = sum(why[kind].values())
        parts = "; ".join(f"{n} {reason}" for reason, n in why[kind].most_common())
        print(f"  {kind:<22} {total:>4}: {parts}")
