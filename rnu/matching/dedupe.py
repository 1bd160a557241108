"""Deduplicate one list: score every candidate pair within it, then cluster the links.

Unlike linking a record to *one* reference person, a list may hold one person three times:
every blocked pair is scored once (i < j), pairs at or above the upper threshold are links,
and connected components over the links give each record a cluster id (the smallest row
of its cluster). Pairs between lower and upper are kept for review, not clustered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rnu.matching.engine import Scorer, Thresholds
from rnu.matching.index import I8, I32, PghIndex, unique_int64
from rnu.matching.scoring import MatchModel

F64 = npt.NDArray[np.float64]


@dataclass(slots=True)
class DedupeResult:
    """Scored pairs (i < j, index rows) at or above ``lower``, and a cluster id per row."""

    left: I32
    right: I32
    weights: F64
    levels: I8
    clusters: I32
    candidate_pairs: int


def within_pairs(index: PghIndex, *, batch_size: int = 20_000) -> tuple[I32, I32]:
    """Every blocked pair of rows of one list, once (i < j)."""
    batch = index.self_batch()
    n = len(index)
    codes = [np.empty(0, dtype=np.int64)]
    for start in range(0, n, batch_size):
        rows = np.arange(start, min(start + batch_size, n), dtype=np.int32)
        q, r = index.candidate_pairs(batch, rows, document_slips=True)
        lo, hi = np.minimum(q, r).astype(np.int64), np.maximum(q, r).astype(np.int64)
        keep = lo != hi
        codes.append(unique_int64(lo[keep] * (n + 1) + hi[keep]))
    code = unique_int64(np.concatenate(codes))
    return (code // (n + 1)).astype(np.int32), (code % (n + 1)).astype(np.int32)


def dedupe(
    index: PghIndex,
    model: MatchModel,
    thresholds: Thresholds,
    *,
    keep_all: bool = False,
    documents_identify: bool = False,
    apart: npt.NDArray[np.int64] | None = None,
    batch_size: int = 200_000,
) -> DedupeResult:
    """Score all candidate pairs of the list in ``index`` and cluster the links.

    Pairs below ``lower`` are dropped unless ``keep_all`` (an analyst's ``--all-pairs``);
    ``documents_identify``: see ``engine.contradiction_caps``. ``apart`` gives each index row
    a group (-1: none) whose members are known to be different people — the members of one
    PGH household were listed in one interview, so two of them alike are twins or siblings,
    not one person twice: their pairs are capped at ``lower`` (review at most, never linked).
    """
    q, r = within_pairs(index)
    scorer = Scorer(index, model, thresholds, documents_identify=documents_identify)
    batch = index.self_batch()
    keep_q: list[I32] = []
    keep_r: list[I32] = []
    keep_w: list[F64] = []
    keep_l: list[I8] = []
    for start in range(0, len(q), batch_size):
        qs, rs = q[start : start + batch_size], r[start : start + batch_size]
        comp, weights = scorer.score(batch, qs, rs)
        if apart is not None:
            together = (apart[qs] >= 0) & (apart[qs] == apart[rs])
            weights[together] = np.minimum(weights[together], thresholds.lower)
        ok = np.ones(len(weights), dtype=np.bool_) if keep_all else weights >= thresholds.lower
        keep_q.append(qs[ok])
        keep_r.append(rs[ok])
        keep_w.append(weights[ok])
        keep_l.append(comp.levels[ok])
    left = np.concatenate(keep_q) if keep_q else np.empty(0, dtype=np.int32)
    right = np.concatenate(keep_r) if keep_r else np.empty(0, dtype=np.int32)
    weights = np.concatenate(keep_w) if keep_w else np.empty(0, dtype=np.float64)
    levels = np.concatenate(keep_l) if keep_l else np.empty((0, 0), dtype=np.int8)
    linked = weights >= thresholds.upper
    clusters = connected_components(len(index), left[linked], right[linked])
    return DedupeResult(left, right, weights, levels, clusters, len(q))


def connected_components(n: int, a: I32, b: I32) -> I32:
    """Cluster id (smallest member) of each of ``n`` nodes given edges (a, b).

    Min-label propagation with pointer jumping, all in numpy: O(edges) per round and a
    logarithmic number of rounds on the chains that duplicates form.
    """
    labels = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return labels.astype(np.int32)
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    while True:
        low = np.minimum(labels[a64], labels[b64])
        before = labels.copy()
        np.minimum.at(labels, a64, low)
        np.minimum.at(labels, b64, low)
        while True:  # pointer jumping: a label's label
            jumped = labels[labels]
            if (jumped == labels).all():
                break
            labels = jumped
        if (labels == before).all():
            return labels.astype(np.int32)
