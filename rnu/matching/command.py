"""`rnu match`: what the command does, apart from its Typer signature (kept thin in the CLI).

Every failure an analyst can cause (a missing file, a bad mapping, a list too small to fit a
model on) is a ``ListError`` with a one-line message; the CLI prints it, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnu.matching.lists import (
    ListError,
    ListMapping,
    describe_model,
    match_lists,
    read_list,
    write_clusters,
    write_pairs,
    write_rejects,
)
from rnu.outputs import output_file


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


def output_paths(options: MatchOptions) -> tuple[Path, Path, Path]:
    """Pairs, rejects and clusters files, checked before any work is done.

    A missing folder would otherwise surface only after the matching, as a traceback; an
    output named like an input (``--out a.csv`` for the list ``a.csv``) would overwrite it.
    """
    out = options.out
    rejects = options.rejects or out.with_name(out.stem + "_rejects.csv")
    clusters = options.clusters or out.with_name(out.stem + "_clusters.csv")
    inputs = {p.resolve() for p in (options.left, options.right, options.mapping) if p}
    if options.right_mapping:
        inputs.add(options.right_mapping.resolve())
    seen: set[Path] = set()
    for path in (out, rejects, clusters):
        where = path.resolve()
        if where in inputs:
            raise ListError(f"{path}: an output would overwrite an input; choose another --out")
        if where in seen:
            raise ListError(f"{path}: two outputs would be written to the same file")
        seen.add(where)
        output_file(path)  # its folder exists and it is no folder
    return out, rejects, clusters


def run(options: MatchOptions, say: Callable[[str], None]) -> None:
    """Read, match, write the pairs (and rejects, clusters), and report the model."""
    _, rejects, clusters = output_paths(options)
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
    rejected = [*left.rejected, *(right.rejected if right else [])]
    try:
        written = write_pairs(result, options.out)
        write_rejects(rejected, rejects)
        if result.mode == "dedupe":
            write_clusters(result, clusters)
    except OSError as exc:  # a full disk, a read-only folder: one line, not a traceback
        raise ListError(f"cannot write {exc.filename or options.out}: {exc.strerror}") from None
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
        groups = len(set(result.clusters.values()))
        say(f"{groups:,} clusters for {len(result.clusters):,} rows, in {clusters}")
