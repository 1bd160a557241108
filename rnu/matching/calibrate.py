"""Fit the Fellegi–Sunter model and the decision thresholds from the data itself.

Method (no hand-set weights):

* **u** — P(level | different people) — from random (sample record, PGH person) pairs: two
  people drawn at random are almost never the same, so level frequencies there are u.
* **m** — P(level | same person) — from free training pairs: sample records whose trusted
  document is in the PGH and whose holder's names agree, plus records whose names and exact
  birth date single out one blocked candidate. Selecting pairs *because* a field agrees would
  bias that field's m towards 1, so each field's m is counted only over training pairs that
  are confirmed by the *other* fields (leave-one-field-out): given names over pairs whose
  surname and birth date agree, birth date over pairs whose names agree, and so on. The
  document's m comes from the confident pairs found without it.
* **prior** — the share of blocked candidate pairs that are matches (records with a training
  pair / candidate pairs).
* **thresholds** — from the model's posterior P(match | w) = 1 / (1 + 2^-(w + logit2(prior))):
  ``upper`` where it reaches ``p_link`` (0.995), ``lower`` where it is 0.5; ``margin`` is
  the weight gap that makes the best candidate ``p_pick`` (0.99) likelier than the runner-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rnu.matching.engine import Thresholds, names_agree
from rnu.matching.index import I8, PghIndex, unique_int64
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import FIELD_NAMES, FIELDS, MatchModel, compare, level

_COL = {f: i for i, f in enumerate(FIELD_NAMES)}
_PSEUDO = 0.5  # additive smoothing: a level never seen still gets a finite weight
_UNORDERED = frozenset({"swapped"})


def _counts(levels: I8, rows: npt.NDArray[np.bool_], field_name: str) -> npt.NDArray[np.float64]:
    n_levels = len(FIELDS[field_name])
    return np.bincount(levels[rows, _COL[field_name]], minlength=n_levels).astype(np.float64)


def _as_dict(field_name: str, probs: npt.NDArray[np.float64]) -> dict[str, float]:
    return {lv: float(p) for lv, p in zip(FIELDS[field_name], probs, strict=True)}


def _estimate(
    field_name: str, m_counts: npt.NDArray[np.float64], u_counts: npt.NDArray[np.float64]
) -> tuple[dict[str, float], dict[str, float]]:
    """m and u of one field, smoothed so sparse levels get sane weights.

    Both get additive (Jeffreys) smoothing, so a level never seen among the training pairs
    weighs against a match only as much as their number justifies. "missing" says nothing
    about identity, so it gets m = u (weight 0). Levels are ordered from strong to weak
    agreement, so a rarely seen strong level may not weigh less than the next weaker one.
    """
    levels = FIELDS[field_name]
    u = (u_counts + _PSEUDO) / (u_counts.sum() + _PSEUDO * len(levels))
    m = (m_counts + _PSEUDO) / (m_counts.sum() + _PSEUDO * len(levels))
    if "missing" in levels:
        j = levels.index("missing")
        rest = [i for i in range(len(levels)) if i != j]
        m[rest] *= (1 - u[j]) / m[rest].sum()
        m[j] = u[j]
    if field_name not in _UNORDERED:
        chain = [i for i, lv in enumerate(levels) if lv != "missing"]
        floor = -np.inf
        for i in reversed(chain):
            weight = np.log2(m[i] / u[i])
            if weight < floor:
                m[i] = u[i] * 2.0**floor
            floor = max(floor, float(np.log2(m[i] / u[i])))
    return _as_dict(field_name, m), _as_dict(field_name, u)


def _is(levels: I8, field_name: str, *names: str) -> npt.NDArray[np.bool_]:
    return np.isin(levels[:, _COL[field_name]], [level(field_name, nm) for nm in names])


def fit(
    index: PghIndex,
    sample: Sequence[PersonRecord],
    *,
    random_pairs: int = 300_000,
    p_link: float = 0.995,
    p_pick: float = 0.99,
    seed: int = 20240601,
) -> tuple[MatchModel, Thresholds]:
    """Estimate m, u, prior and thresholds from ``sample`` (sector records) against ``index``."""
    if len(index) == 0 or not sample:
        raise ValueError("calibration needs a non-empty index and sample")
    rng = np.random.default_rng(seed)
    batch = index.encode(sample)
    n = len(sample)

    # u: random pairs
    q_rand = rng.integers(0, n, random_pairs).astype(np.int32)
    r_rand = rng.integers(0, len(index), random_pairs).astype(np.int32)
    rand_levels = compare(index, batch, q_rand, r_rand)
    everyone = np.ones(random_pairs, dtype=np.bool_)
    u_counts = {f: _counts(rand_levels, everyone, f) for f in FIELD_NAMES}

    # training pairs, 1: trusted documents whose holder's names agree
    rows = np.arange(n, dtype=np.int32)
    trusted = rows[batch.trusted & (batch.columns.doc >= 0)]
    q_doc, r_doc = index.lookup_documents(batch, trusted)
    doc_levels = compare(index, batch, q_doc, r_doc)
    doc_levels = doc_levels[names_agree(doc_levels)]

    # training pairs, 2: blocked candidates singled out by names and exact birth date
    q_c, r_c = index.candidates(batch, rows)
    cand_levels = compare(index, batch, q_c, r_c)
    strong = (
        names_agree(cand_levels)
        & _is(cand_levels, "birth_date", "exact")
        & _is(cand_levels, "nombres", "exact", "reordered")
    )
    per_query = np.bincount(q_c[strong], minlength=n)
    confident = strong & (per_query[q_c] == 1)
    fuzzy_levels = cand_levels[confident]

    train = np.concatenate([doc_levels, fuzzy_levels])
    if len(train) < 50:
        raise ValueError(f"too few training pairs to fit the model ({len(train)})")
    given_ok = _is(train, "nombres", "exact", "reordered", "fuzzy_high", "subset", "phonetic")
    paterno_ok = _is(train, "paterno", "exact", "phonetic", "fuzzy_high")
    dob_ok = _is(train, "birth_date", "exact", "day_month_swap", "one_digit")
    confirmed_by = {
        "paterno": given_ok & dob_ok,
        "materno": given_ok & dob_ok,
        "swapped": given_ok & dob_ok,
        "nombres": paterno_ok & dob_ok,
        "birth_date": given_ok & paterno_ok,
        "sex": given_ok & paterno_ok & dob_ok,
        "ubigeo": given_ok & paterno_ok & dob_ok,
    }
    m_counts = {f: _counts(train, rows_ok, f) for f, rows_ok in confirmed_by.items()}
    # the document's m from pairs found without it (doc pairs agree on it by construction)
    doc_source = fuzzy_levels if len(fuzzy_levels) else doc_levels
    everyone_doc = np.ones(len(doc_source), dtype=np.bool_)
    m_counts["document"] = _counts(doc_source, everyone_doc, "document")
    m: dict[str, dict[str, float]] = {}
    u: dict[str, dict[str, float]] = {}
    for f in FIELD_NAMES:
        m[f], u[f] = _estimate(f, m_counts[f], u_counts[f])

    matched_records = len(unique_int64(np.concatenate([q_doc, q_c[confident]]).astype(np.int64)))
    prior = min(max(matched_records / max(len(q_c), 1), 1e-6), 0.5)
    model = MatchModel(
        m=m,
        u=u,
        prior=prior,
        method="u: random pairs; m: document and confident pairs, leave-one-field-out",
        notes={
            "random_pairs": random_pairs,
            "document_pairs": len(doc_levels),
            "confident_pairs": len(fuzzy_levels),
            "candidate_pairs": len(q_c),
            "sample": n,
        },
    )
    return model, thresholds_from_model(model, p_link=p_link, p_pick=p_pick)


def _logit2(p: float) -> float:
    return math.log2(p / (1 - p))


def thresholds_from_model(
    model: MatchModel, *, p_link: float = 0.995, p_pick: float = 0.99
) -> Thresholds:
    """Weights where the posterior reaches ``p_link`` (upper) and 0.5 (lower)."""
    prior_logit = _logit2(model.prior)
    upper = _logit2(p_link) - prior_logit
    lower = max(-prior_logit, 0.0)
    return Thresholds(
        upper=upper,
        lower=lower,
        margin=_logit2(p_pick),
        notes={"method": "posterior", "p_link": p_link, "p_pick": p_pick, "prior": model.prior},
    )
