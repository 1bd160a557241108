"""Decide which PGH person each record is: exact document first, then blocked fuzzy scoring.

Work is done per batch with numpy and rapidfuzz (``cpdist`` over the distinct name pairs of
the whole batch, in parallel), so the per-record Python cost is building the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rnu.matching.index import I8, I32, PghIndex
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import FIELD_NAMES, FIELDS, MatchModel, compare, level, pair_weights

Outcome = Literal["linked", "review", "unmatched"]
Method = Literal["exact_document", "fuzzy", "none"]
F64 = npt.NDArray[np.float64]

_COL = {f: i for i, f in enumerate(FIELD_NAMES)}
_NAME_AGREE = [level("nombres", lv) for lv in ("exact", "reordered", "fuzzy_high", "subset")]
_NAME_AGREE.append(level("nombres", "phonetic"))
_SURNAME_AGREE = [level("paterno", lv) for lv in ("exact", "phonetic", "fuzzy_high")]
_RADIX = np.array(
    [int(np.prod([len(FIELDS[f]) for f in FIELD_NAMES[i + 1 :]])) for i in range(len(FIELDS))],
    dtype=np.int64,
)


@dataclass(slots=True)
class Thresholds:
    """Weight cut-offs: ≥ upper links, < lower is unmatched, between goes to review.

    ``margin``: a best candidate closer than this to the runner-up (itself ≥ lower) is
    ambiguous and goes to review with both, never silently to the first.
    """

    upper: float
    lower: float
    margin: float
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.lower <= self.upper:
            raise ValueError(f"thresholds out of order: lower {self.lower} > upper {self.upper}")
        if self.margin < 0:
            raise ValueError("margin must not be negative")

    def override(self, config: dict[str, float] | None) -> Thresholds:
        """Calibrated thresholds with the values a deployment's config pins."""
        if not config:
            return self
        unknown = set(config) - {"upper", "lower", "margin"}
        if unknown:
            raise ValueError(f"unknown threshold settings: {sorted(unknown)}")
        return replace(
            self,
            upper=config.get("upper", self.upper),
            lower=config.get("lower", self.lower),
            margin=config.get("margin", self.margin),
        )


@dataclass(slots=True)
class Candidate:
    """A PGH person considered for a record, with the evidence for it."""

    key: str
    weight: float
    agreements: dict[str, str]


@dataclass(slots=True)
class MatchResult:
    """Who a record is (or why we cannot tell), and the field agreements that justify it.

    ``agreements`` dicts are shared between results with the same levels (a few hundred
    distinct ones per load instead of one per row): read them, never change them.
    """

    outcome: Outcome
    person_key: str | None
    method: Method
    weight: float
    agreements: dict[str, str]
    candidates: list[Candidate]


def names_agree(levels: I8) -> npt.NDArray[np.bool_]:
    """Whether a document holder's identity agrees enough to accept the document as proof.

    Given names must agree, or be a near miss with both surnames agreeing (a relative's
    borrowed DNI fails here), one surname must agree
    (a typo'd DNI that lands on a stranger fails) and the birth date must not clearly
    differ (a father's DNI used for his namesake son fails).
    """
    paterno_ok = np.isin(levels[:, _COL["paterno"]], _SURNAME_AGREE)
    materno_ok = np.isin(levels[:, _COL["materno"]], _SURNAME_AGREE)
    # A slip in the given name (BERTGA for BERTHA) still counts when both surnames agree:
    # a relative who borrows the DNI has a different given name, not a misspelt one.
    nombres_ok = np.isin(levels[:, _COL["nombres"]], _NAME_AGREE) | (
        (levels[:, _COL["nombres"]] == level("nombres", "fuzzy_low")) & paterno_ok & materno_ok
    )
    dob_ok = levels[:, _COL["birth_date"]] != level("birth_date", "different")
    return nombres_ok & (paterno_ok | materno_ok) & dob_ok  # type: ignore[no-any-return]


class Matcher:
    """Matches batches of records against one PGH index with one fitted model."""

    def __init__(
        self,
        index: PghIndex,
        model: MatchModel,
        thresholds: Thresholds,
        *,
        max_candidates: int = 3,
        batch_size: int = 20_000,
    ) -> None:
        self.index = index
        self.model = model
        self.thresholds = thresholds
        self.max_candidates = max_candidates
        self.batch_size = batch_size
        self._table = model.weight_table()
        self._described: dict[int, dict[str, str]] = {}

    def match_many(self, records: Sequence[PersonRecord]) -> list[MatchResult]:
        """One result per record, in order."""
        out: list[MatchResult] = []
        for start in range(0, len(records), self.batch_size):
            out.extend(self._match_batch(records[start : start + self.batch_size], None))
        return out

    def match_many_excluding_self(
        self, records: Sequence[PersonRecord], first_row: int
    ) -> list[MatchResult]:
        """As ``match_many`` for records that are themselves rows ``first_row..`` of the index.

        Deduplicating a list matches it against itself; a record must not find its own row.
        """
        out: list[MatchResult] = []
        for start in range(0, len(records), self.batch_size):
            chunk = records[start : start + self.batch_size]
            out.extend(self._match_batch(chunk, first_row + start))
        return out

    # -- internals ------------------------------------------------------------------------

    def _describe(self, code: int) -> dict[str, str]:
        """Level names of a pair from its mixed-radix level code (few distinct combinations).

        The cached dict itself is returned, not a copy: results share it (see MatchResult).
        """
        cached = self._described.get(code)
        if cached is None:
            cached = {}
            for f, radix in zip(FIELD_NAMES, _RADIX.tolist(), strict=True):
                cached[f] = FIELDS[f][(code // radix) % len(FIELDS[f])]
            self._described[code] = cached
        return cached

    def _match_batch(
        self, records: Sequence[PersonRecord], self_offset: int | None
    ) -> list[MatchResult]:
        index = self.index
        batch = index.encode(records)
        n = len(records)
        results: list[MatchResult | None] = [None] * n
        all_rows = np.arange(n, dtype=np.int32)

        # 1. exact document
        has_doc = batch.columns.doc >= 0
        if batch.odd_docs:
            has_doc[list(batch.odd_docs)] = True
        doc_rows = all_rows[batch.trusted & has_doc]
        q, r = index.lookup_documents(batch, doc_rows)
        q, r = _drop_self(q, r, self_offset)
        rejected = np.empty(0, dtype=np.int64)
        if len(q):
            levels = compare(index, batch, q, r)
            weights = pair_weights(levels, self._table)
            agree = names_agree(levels)
            rejected = _pair_code(q[~agree], r[~agree], len(index))
            q, r, levels, weights = q[agree], r[agree], levels[agree], weights[agree]
            counts = np.bincount(q, minlength=n)
            keys = index.keys
            single = counts[q] == 1
            describe = self._describe
            for i, row, code, w in zip(
                q[single].tolist(),
                r[single].tolist(),
                _level_codes(levels[single]).tolist(),
                weights[single].tolist(),
                strict=True,
            ):
                results[i] = MatchResult(
                    "linked", keys[row], "exact_document", w, describe(code), []
                )
            if not single.all():  # one document, several PGH people: a PGH duplicate
                many = ~single
                self._decide(
                    results, q[many], r[many], levels[many], weights[many], "exact_document"
                )

        # 2. fuzzy: blocks, scores, best
        todo = np.flatnonzero(np.array([res is None for res in results])).astype(np.int32)
        if len(todo):
            q, r = index.candidates(batch, todo)
            q, r = _drop_self(q, r, self_offset)
            levels = compare(index, batch, q, r)
            weights = pair_weights(levels, self._table)
            if len(rejected):
                # a holder whose names disagree may be reviewed, never linked on the document
                capped = np.isin(_pair_code(q, r, len(index)), rejected)
                ceiling = np.nextafter(self.thresholds.upper, -np.inf)
                weights[capped] = np.minimum(weights[capped], ceiling)
            self._decide(results, q, r, levels, weights, "fuzzy")
        return [res if res is not None else unmatched() for res in results]

    def _decide(
        self,
        results: list[MatchResult | None],
        q: I32,
        r: I32,
        levels: I8,
        weights: F64,
        method: Method,
    ) -> None:
        """Fill ``results`` for each query row from its scored candidate pairs."""
        if len(q) == 0:
            return
        th = self.thresholds
        order = np.lexsort((-weights, q))
        q, r, levels, weights = q[order], r[order], levels[order], weights[order]
        starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])
        ends = np.r_[starts[1:], len(q)]
        keys = self.index.keys
        k = self.max_candidates
        codes = _level_codes(levels).tolist()
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            best = float(weights[s])
            second = float(weights[s + 1]) if e - s > 1 else -np.inf
            ambiguous = second >= th.lower and best - second < th.margin
            cands = [
                Candidate(keys[int(r[j])], float(weights[j]), self._describe(codes[j]))
                for j in range(s, min(e, s + k))
            ]
            if best >= th.upper and not ambiguous:
                outcome: Outcome = "linked"
            elif best >= th.lower:
                outcome = "review"
            else:
                outcome = "unmatched"
            results[int(q[s])] = MatchResult(
                outcome,
                cands[0].key if outcome != "unmatched" else None,
                method if outcome != "unmatched" else "none",
                best,
                cands[0].agreements,
                cands,
            )


_NO_AGREEMENTS: dict[str, str] = {}


def unmatched() -> MatchResult:
    """The result for a record with no candidate at all (shares one empty agreements dict)."""
    return MatchResult("unmatched", None, "none", 0.0, _NO_AGREEMENTS, [])


def _level_codes(levels: I8) -> npt.NDArray[np.int64]:
    return levels.astype(np.int64) @ _RADIX


def _pair_code(q: I32, r: I32, n_index: int) -> npt.NDArray[np.int64]:
    return q.astype(np.int64) * (n_index + 1) + r.astype(np.int64)


def _drop_self(q: I32, r: I32, offset: int | None) -> tuple[I32, I32]:
    if offset is None or len(q) == 0:
        return q, r
    keep = r != q + offset
    return q[keep], r[keep]
