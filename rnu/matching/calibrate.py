"""Fit the Fellegi–Sunter model and the decision thresholds from the data itself (no labels).

Method, as Splink's (its "estimate u by random sampling, then m by expectation-maximisation"):

* **u** — P(level | different people) — from random (record, reference) pairs: two people
  drawn at random are almost never the same, so level frequencies there are u. For the
  registry this depends only on the PGH, so it is computed once per PGH version.
* **m** — P(level | same person) — and the **prior** (share of candidate pairs that match)
  by EM over the candidate pairs of the data being matched (blocked pairs plus the pairs
  sharing a document), with u held fixed: the E step gives each distinct comparison
  pattern its match probability, the M step re-counts each field's levels weighted by it.
  Nothing is selected *because* a field agrees, so "different birth date" or "different
  given name" among true matches get the frequency they really have. "missing" is left
  out of both sides (it weighs 0).
* **thresholds** — from the posterior P(match | w) = 1 / (1 + 2^-(w + logit2(prior))):
  ``upper`` where it reaches ``p_link`` (0.995), ``lower`` where it is 0.5; ``margin`` is
  the weight gap that makes the best candidate ``p_pick`` (0.99) likelier than the runner-up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rnu.matching.engine import Thresholds
from rnu.matching.index import I8, I32, I64, PghIndex, QueryBatch
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import FIELD_NAMES, FIELDS, NEUTRAL_FIELDS, MatchModel, compare

F64 = npt.NDArray[np.float64]
_PSEUDO = 0.5  # additive smoothing: a level never seen still gets a finite weight
_MIN_PAIRS = 50
_WIDTH = max(len(v) for v in FIELDS.values())
_MISSING = np.array(
    [FIELDS[f].index("missing") if "missing" in FIELDS[f] else -1 for f in FIELD_NAMES]
)
_MODELLED = [i for i, f in enumerate(FIELD_NAMES) if f not in NEUTRAL_FIELDS]


class FitError(ValueError):
    """The data cannot support a fitted model (too little of it); the message says why."""


def _level_mask() -> npt.NDArray[np.bool_]:
    """(field, level) cells that are real, non-missing levels."""
    mask = np.zeros((len(FIELD_NAMES), _WIDTH), dtype=np.bool_)
    for i, f in enumerate(FIELD_NAMES):
        for j, lv in enumerate(FIELDS[f]):
            mask[i, j] = lv != "missing"
    return mask


_REAL = _level_mask()


def _normalise(counts: F64) -> F64:
    """Per-field probabilities over the non-missing levels, smoothed."""
    smoothed = np.where(_REAL, counts + _PSEUDO, 0.0)
    return smoothed / smoothed.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def _counts(levels: I8, weights: F64 | None = None) -> F64:
    out = np.zeros((len(FIELD_NAMES), _WIDTH), dtype=np.float64)
    for i in range(len(FIELD_NAMES)):
        out[i] = np.bincount(levels[:, i], weights=weights, minlength=_WIDTH)[:_WIDTH]
    return out


def estimate_u(
    index: PghIndex,
    batch: QueryBatch,
    *,
    pairs: int = 200_000,
    seed: int = 20240601,
    same_list: bool = False,
) -> F64:
    """u as a (field, level) matrix from random pairs of ``batch`` rows and index rows."""
    if len(index) == 0 or len(batch.keys) == 0:
        raise FitError("calibration needs a non-empty reference list and records to match")
    rng = np.random.default_rng(seed)
    q = rng.integers(0, len(batch.keys), pairs).astype(np.int32)
    r = rng.integers(0, len(index), pairs).astype(np.int32)
    if same_list:
        keep = q != r
        q, r = q[keep], r[keep]
    return _normalise(_counts(compare(index, batch, q, r).levels))


def _start_m() -> F64:
    """EM's starting m: most true pairs agree fully, the rest spread over the other levels."""
    m = np.zeros((len(FIELD_NAMES), _WIDTH), dtype=np.float64)
    for i, f in enumerate(FIELD_NAMES):
        real = [j for j, lv in enumerate(FIELDS[f]) if lv != "missing"]
        m[i, real] = 0.1 / max(len(real) - 1, 1)
        m[i, real[0]] = 0.9
    return m


def em(
    levels: I8,
    u: F64,
    *,
    prior: float = 0.05,
    m: F64 | None = None,
    ignore: frozenset[str] = frozenset(),
    update_m: bool = True,
    max_iter: int = 100,
    tol: float = 1e-5,
) -> tuple[F64, float, int]:
    """EM for m and the prior over comparison patterns, u fixed. Returns (m, prior, iters).

    ``ignore``: fields left out of the E step and not re-estimated — the fields the pairs
    were blocked on, which agree among non-matches far more often than u says. Runs on
    distinct patterns with their counts (a few thousand, whatever the pair count).
    """
    radix = np.array([_WIDTH**k for k in range(len(FIELD_NAMES))], dtype=np.int64)
    codes = levels.astype(np.int64) @ radix
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    pats = levels[first].astype(np.intp)
    c = counts.astype(np.float64)
    m = _start_m() if m is None else m.copy()
    log_u = np.log(np.where(_REAL, u, 1.0))
    rows = np.arange(len(FIELD_NAMES))
    modelled = [i for i in _MODELLED if FIELD_NAMES[i] not in ignore]
    # cells of "missing" levels and of left-out fields contribute nothing to either side
    used = _REAL[rows[None, :], pats] & np.isin(rows, modelled)[None, :]
    lu = np.where(used, log_u[rows[None, :], pats], 0.0).sum(axis=1)
    iters = 0
    for step in range(1, max_iter + 1):
        iters = step
        log_m = np.log(np.where(_REAL, m, 1.0))
        lm = np.where(used, log_m[rows[None, :], pats], 0.0).sum(axis=1)
        logit = math.log(prior) - math.log1p(-prior) + lm - lu
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        w = c * p
        new_prior = float(min(max(w.sum() / c.sum(), 1e-9), 1 - 1e-9))
        delta = abs(new_prior - prior)
        if update_m:
            new_m = _normalise(_counts(pats.astype(np.int8), w) * _REAL)
            new_m[~np.isin(rows, modelled)] = m[~np.isin(rows, modelled)]
            delta = max(delta, float(np.abs(new_m - m).max()))
            m = new_m
        prior = new_prior
        if delta < tol:
            break
    return m, prior, iters


# Training sessions (Splink's): pairs from one family of blocking rules, with the fields those
# rules block on left out. Between them every field is estimated at least once.
SESSIONS: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...] = (
    ("birth_date", ("dob_sex",), frozenset({"birth_date", "sex"})),
    ("names", ("pair",), frozenset({"paterno", "nombres"})),
    ("surnames", ("surnames_place",), frozenset({"paterno", "materno", "ubigeo", "place"})),
)


def _monotone(m: F64, u: F64) -> F64:
    """A stronger level may not weigh less than the next weaker one (sparse-level noise)."""
    m = m.copy()
    for i, f in enumerate(FIELD_NAMES):
        if f in NEUTRAL_FIELDS:
            continue
        chain = [j for j, lv in enumerate(FIELDS[f]) if lv != "missing"]
        floor = -np.inf
        for j in reversed(chain):
            if math.log2(m[i, j] / u[i, j]) < floor:
                m[i, j] = u[i, j] * 2.0**floor
            floor = max(floor, math.log2(m[i, j] / u[i, j]))
        m[i, chain] /= m[i, chain].sum()
    return m


def _as_dicts(table: F64) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for i, f in enumerate(FIELD_NAMES):
        # "missing" weighs 0 by definition and has no probabilities of its own
        out[f] = {lv: float(table[i, j]) for j, lv in enumerate(FIELDS[f]) if lv != "missing"}
    return out


def _session_pairs(
    index: PghIndex, batch: QueryBatch, rows: I32, same_list: bool, apart: I64 | None
) -> list[tuple[str, I32, I32, frozenset[str]]]:
    out = []
    for name, schemes, ignore in SESSIONS:
        q, r = index.candidates(batch, rows, schemes)
        out.append((name, *_without_self(q, r, same_list, apart), ignore))
    q, r = index.lookup_documents(batch, rows)
    out.append(("documents", *_without_self(q, r, same_list, apart), frozenset({"document"})))
    return out


def _without_self(q: I32, r: I32, same_list: bool, apart: I64 | None = None) -> tuple[I32, I32]:
    """Pairs of a list with itself lose the self pairs and, given ``apart``, the pairs of
    rows known to be different people (see ``model_from_sessions``)."""
    if not same_list:
        return q, r
    keep = q != r
    if apart is not None:
        keep &= ~((apart[q] >= 0) & (apart[q] == apart[r]))
    return q[keep], r[keep]


def model_from_sessions(
    index: PghIndex,
    batch: QueryBatch,
    rows: I32,
    u: F64,
    *,
    same_list: bool = False,
    fallback: MatchModel | None = None,
    notes: dict[str, object] | None = None,
    apart: I64 | None = None,
) -> MatchModel:
    """m by EM over training sessions, the prior over all candidate pairs of ``rows``.

    Each field's m is the match-weighted mean of its estimates in the sessions that did not
    block on it. A field no session could estimate (no birth dates, no documents, ...) keeps
    ``fallback``'s m (the shipped model), else EM's starting values.
    """
    estimates = np.zeros_like(u)
    mass = np.zeros(len(FIELD_NAMES))
    trained: dict[str, object] = {}
    for name, q, r, ignore in _session_pairs(index, batch, rows, same_list, apart):
        if len(q) < _MIN_PAIRS:
            trained[name] = f"skipped ({len(q)} pairs)"
            continue
        levels = compare(index, batch, q, r).levels
        m, prior, iters = em(levels, u, ignore=ignore)
        matches = prior * len(q)
        trained[name] = {"pairs": len(q), "matches": round(matches, 1), "iterations": iters}
        for i, f in enumerate(FIELD_NAMES):
            if f in ignore or f in NEUTRAL_FIELDS:
                continue
            seen = levels[:, i] != _MISSING[i]
            weight = matches * (float(seen.mean()) if len(seen) else 0.0)
            estimates[i] += weight * m[i]
            mass[i] += weight
    start = _start_m() if fallback is None else _matrix(fallback.m)
    m = np.where(mass[:, None] > 1.0, estimates / np.maximum(mass, 1e-12)[:, None], start)
    m = _monotone(np.where(_REAL, m, 0.0) + np.where(_REAL, 1e-12, 0.0), u)
    q, r = index.candidate_pairs(batch, rows)
    q, r = _without_self(q, r, same_list, apart)
    if len(q) < _MIN_PAIRS:
        raise FitError(f"too few candidate pairs to fit the model ({len(q)}; need {_MIN_PAIRS})")
    _, prior, _ = em(compare(index, batch, q, r).levels, u, m=m, update_m=False)
    return MatchModel(
        m=_as_dicts(m),
        u=_as_dicts(u),
        prior=min(max(prior, 1e-6), 0.5),
        method="u: random pairs; m: EM per blocking session (blocked fields left out); "
        "prior: EM over all candidate pairs",
        notes={"candidate_pairs": len(q), "sessions": trained, **(notes or {})},
    )


def _matrix(table: dict[str, dict[str, float]]) -> F64:
    out = np.zeros((len(FIELD_NAMES), _WIDTH), dtype=np.float64)
    for i, f in enumerate(FIELD_NAMES):
        for j, lv in enumerate(FIELDS[f]):
            out[i, j] = table.get(f, {}).get(lv, 0.0) if lv != "missing" else 0.0
    return out


def fit(
    index: PghIndex,
    sample: Sequence[PersonRecord],
    *,
    u: F64 | None = None,
    fallback: MatchModel | None = None,
    random_pairs: int = 200_000,
    p_link: float = 0.995,
    p_pick: float = 0.99,
    seed: int = 20240601,
) -> tuple[MatchModel, Thresholds]:
    """Fit m (EM), u (random pairs, unless given) and thresholds for ``sample`` vs ``index``."""
    if len(index) == 0 or not sample:
        raise FitError("calibration needs a non-empty reference list and records to match")
    batch = index.encode(sample)
    if u is None:
        u = estimate_u(index, batch, pairs=random_pairs, seed=seed)
    rows = np.arange(len(sample), dtype=np.int32)
    model = model_from_sessions(
        index, batch, rows, u, fallback=fallback, notes={"sample": len(sample)}
    )
    return model, thresholds_from_model(model, p_link=p_link, p_pick=p_pick)


DEFAULT_MODEL = Path(__file__).resolve().parent / "default_model.json"


def default_model() -> tuple[MatchModel, Thresholds]:
    """The shipped model (fitted by EM on a synthetic country): the fallback for lists too
    small to fit on, and the source of m for fields a list cannot estimate."""
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    model = MatchModel.from_json(json.dumps(data["model"]))
    return model, Thresholds(**data["thresholds"])


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
