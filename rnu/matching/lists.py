"""Link two arbitrary lists of people, or deduplicate one, with the engine's scoring."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rnu.matching.calibrate import fit
from rnu.matching.engine import Matcher, MatchResult, Outcome, Thresholds
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import MatchModel


@dataclass(slots=True)
class PairResult:
    """One proposed pair: a left record and the right record it may be."""

    left_id: str
    right_id: str
    weight: float
    outcome: Outcome
    agreements: dict[str, str]


def link_lists(
    left: Iterable[PersonRecord],
    right: Iterable[PersonRecord] | None,
    *,
    model: MatchModel | None = None,
    thresholds: Thresholds | None = None,
    batch_size: int = 20_000,
) -> Iterator[PairResult]:
    """Pairs between ``left`` and ``right``, or within ``left`` when ``right`` is None.

    The right list (or the left one, to dedupe) is indexed like the PGH; without a model one
    is fitted on the left list. Linked pairs and every review candidate above the lower
    threshold are yielded; a dedupe yields each pair once (left_id < right_id by position).
    """
    left_list = list(left)
    dedupe = right is None
    reference = left_list if right is None else list(right)
    index = PghIndex.build(reference)
    if model is None or thresholds is None:
        fitted_model, fitted_thresholds = fit(index, left_list[:50_000])
        model = model or fitted_model
        thresholds = thresholds or fitted_thresholds
    matcher = Matcher(index, model, thresholds, batch_size=batch_size)
    position = {key: i for i, key in enumerate(index.keys)} if dedupe else {}
    for start in range(0, len(left_list), batch_size):
        chunk = left_list[start : start + batch_size]
        if dedupe:
            results = matcher.match_many_excluding_self(chunk, start)
        else:
            results = matcher.match_many(chunk)
        for offset, (rec, res) in enumerate(zip(chunk, results, strict=True)):
            yield from _pairs(rec, res, start + offset, position, thresholds)


def _pairs(
    rec: PersonRecord,
    res: MatchResult,
    row: int,
    position: dict[str, int],
    thresholds: Thresholds,
) -> Iterator[PairResult]:
    if res.outcome == "unmatched":
        return
    if not res.candidates and res.person_key is not None:  # exact document link
        if not position or position.get(res.person_key, -1) > row:
            yield PairResult(rec.key, res.person_key, res.weight, res.outcome, res.agreements)
        return
    for i, cand in enumerate(res.candidates):
        if cand.weight < thresholds.lower:
            break
        if position and position.get(cand.key, -1) < row:
            continue  # the same pair was reported when the other record was the left one
        outcome: Outcome = res.outcome if i == 0 else "review"
        yield PairResult(rec.key, cand.key, cand.weight, outcome, cand.agreements)
