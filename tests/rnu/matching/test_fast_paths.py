"""The load's shortcuts decide exactly as the full comparison does.

A load scores with ``Matcher(complete=False)`` (pairs no name can lift left unscored where
they cannot matter) and tests word sets on ids instead of rapidfuzz's token scorers; both
are only worth having if nothing a load stores changes.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from rnu.matching.engine import Matcher, MatchResult, Thresholds, capped_whatever_names
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import COL, MatchModel, _word_agreement
from tests.rnu.matching.conftest import person
from tests.rnu.matching.synthetic import noisy_sample

WORDS = ["MARIA", "ANA", "DEL", "CARMEN", "LUZ", "MA.", "JOSE", "Ñ", "A", "CARMEN-ROSA"]


def _stored(res: MatchResult) -> tuple[object, ...]:
    """What a load keeps of a result: candidates only for a row sent to review."""
    cands = (
        [(c.key, round(c.weight, 9), c.agreements) for c in res.candidates]
        if res.outcome == "review"
        else []
    )
    return (res.outcome, res.person_key, res.method, round(res.weight, 9), res.agreements, cands)


def _records(texts: list[str], prefix: str) -> list[PersonRecord]:
    return [
        person(f"{prefix}{i}", text, "QUISPE", "MAMANI", date(1990, 1, 1))
        for i, text in enumerate(texts)
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=7).map(" ".join),
        min_size=2,
        max_size=12,
    )
)
def test_word_sets_agree_with_rapidfuzz_at_100(texts: list[str]) -> None:
    """Same words in any order (token_sort 100), one's words among the other's (token_set
    100): equal to rapidfuzz on every pair, names of more words than the slots included."""
    half = len(texts) // 2
    index = PghIndex.build(_records(texts[:half], "R"))
    batch = index.encode(_records(texts[half:], "Q"))
    qcodes = np.repeat(batch.columns.nombres, len(index))
    rcodes = np.tile(index.columns.nombres, len(batch.keys))
    same, subset = _word_agreement(index, batch, qcodes, rcodes)
    left, right = index.name_text(qcodes, batch), index.name_text(rcodes, batch)
    by_sort = process.cpdist(left, right, scorer=fuzz.token_sort_ratio, dtype=np.uint8)
    by_set = process.cpdist(left, right, scorer=fuzz.token_set_ratio, dtype=np.uint8)
    differ = qcodes != rcodes
    assert (same[differ] == (by_sort[differ] == 100)).all()
    assert (subset[differ] == (by_set[differ] == 100)).all()


def test_incomplete_matcher_stores_what_the_complete_one_does(
    index: PghIndex, pgh: list[PersonRecord], fitted: tuple[MatchModel, Thresholds]
) -> None:
    """Outcome, person, weight, agreements and review candidates, row for row, on noisy
    records whose dates and documents were taken away from a share of them (the pairs the
    shortcut leaves unscored are those without a corroborating date or document)."""
    model, thresholds = fitted
    records = noisy_sample(pgh[:5_000], 3_000, seed=9)
    rng = np.random.default_rng(4)
    for i in rng.choice(len(records), 1_200, replace=False).tolist():
        records[i] = dataclasses.replace(
            records[i],
            birth_date=None if i % 3 else date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
            doc_type=None,
            doc_number=None,
            doc_trusted=False,
        )
    complete = Matcher(index, model, thresholds).match_many(records)
    quick = Matcher(index, model, thresholds, complete=False).match_many(records)
    outcomes = {r.outcome for r in complete}
    assert outcomes == {"linked", "review", "unmatched"}  # every branch is exercised
    assert [_stored(r) for r in quick] == [_stored(r) for r in complete]


def test_pairs_left_unscored_are_capped_whatever_their_names(
    index: PghIndex, pgh: list[PersonRecord], fitted: tuple[MatchModel, Thresholds]
) -> None:
    """The shortcut's premise: every pair ``capped_whatever_names`` marks ends below
    ``lower + 0.01`` once fully scored, while unmarked pairs reach above it."""
    model, thresholds = fitted
    records = noisy_sample(pgh[:5_000], 3_000, seed=11)
    records = [
        dataclasses.replace(r, doc_type=None, doc_number=None, doc_trusted=False) if i % 2 else r
        for i, r in enumerate(records)
    ]
    batch = index.encode(records)
    rows = np.arange(len(records), dtype=np.int32)
    q, r = index.candidate_pairs(batch, rows)
    scorer = Matcher(index, model, thresholds).scorer
    comp, weights = scorer.score(batch, q, r)
    marked = capped_whatever_names(
        comp.levels[:, COL["birth_date"]], comp.levels[:, COL["document"]]
    )
    assert marked.sum() > 1_000
    assert (~marked).sum() > 1_000
    assert (weights[marked] < thresholds.lower + 0.01).all()
    assert (weights[~marked] >= thresholds.lower + 0.01).sum() > 1_000
