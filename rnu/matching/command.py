"""`rnu match`: what the command does, apart from its Typer signature (kept thin in the CLI).

Every failure an analyst can cause (a missing file, a bad mapping, a list too small to fit a
model on) is a ``ListError`` with a one-line message; the CLI prints it, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnu.matching.lists import (
    ListMapping,
    describe_model,
    match_lists,
    read_list,
    write_clusters,
    write_pairs,
    write_rejects,
)


@dataclass(frozen=True)
class MatchOptions:
    left: Path
    right: Path | None
    mapping: Path
    right_mapping: Path | None
    out: Path
    rejects: Path | None = None
    clusters: Path | None = None
    threshold: float | None = None
    review_threshold: float | None = None
    all_pairs: bool = False


def run(options: MatchOptions, say: Callable[[str], None]) -> None:
    """Read, match, write the pairs (and rejects, clusters), and report the model."""
    left_map = ListMapping.load(options.mapping)
    left = read_list(options.left, left_map, list_name="left")
    right = None
    if options.right is not None:
        right_map = ListMapping.load(options.right_mapping) if options.right_mapping else left_map
        right = read_list(options.right, right_map, list_name="right")
    result = match_lists(
        left.records,
        None if right is None else right.records,
        threshold=options.threshold,
        review_threshold=options.review_threshold,
        all_pairs=options.all_pairs,
    )
    written = write_pairs(result, options.out)
    rejected = [*left.rejected, *(right.rejected if right else [])]
    rejects = options.rejects or options.out.with_name(options.out.stem + "_rejects.csv")
    write_rejects(rejected, rejects)
    for line in describe_model(result):
        say(line)
    for name, read in (("left", left), ("right", right)):
        if read is None:
            continue
        emptied = ", ".join(f"{k} {v:,}" for k, v in sorted(read.notes.items())) or "none"
        say(
            f"{name}: {len(read.records):,} rows matched, {len(read.rejected):,} rejected; "
            f"fields left empty: {emptied}"
        )
    linked = sum(p.outcome == "linked" for p in result.pairs)
    review = sum(p.outcome == "review" for p in result.pairs)
    say(f"{written:,} pairs written to {options.out} ({linked:,} linked, {review:,} review); "
        f"rejects in {rejects}")  # fmt: skip
    if result.mode == "dedupe":
        clusters = options.clusters or options.out.with_name(options.out.stem + "_clusters.csv")
        write_clusters(result, clusters)
        groups = len(set(result.clusters.values()))
        say(f"{groups:,} clusters for {len(result.clusters):,} rows, in {clusters}")
