"""Decide which reference person each record is: one Fellegi–Sunter score over all evidence.

An equal document is evidence inside the model (its own levels), not a gate: a record's
candidates are its blocked pairs plus the people sharing its document, all scored alike.
Only as a shortcut, a record whose document holder already clears the upper threshold with
no contradiction is linked without looking further (most rows of a registry load).

Contradictions a namesake cannot explain — two different valid documents, birth dates years
apart, given names that name someone else — cap a pair's weight (see ``contradiction_caps``):
summed name agreement must never outvote them.

Work is done per batch with numpy and rapidfuzz (``cpdist`` over the distinct name pairs of
the whole batch, in parallel), so the per-record Python cost is building the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rnu.matching.index import (
    BLOCK_SCHEMES,
    I8,
    I32,
    SECOND_PASS_SCHEMES,
    PghIndex,
    QueryBatch,
    unique_int64,
)
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import (
    COL,
    FIELD_NAMES,
    FIELDS,
    Comparison,
    MatchModel,
    compare,
    date_levels,
    doc_levels,
    level,
    pair_weights,
    tf_adjustment,
)

Outcome = Literal["linked", "review", "unmatched"]
Method = Literal["exact_document", "fuzzy", "none"]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

_RADIX = np.array(
    [int(np.prod([len(FIELDS[f]) for f in FIELD_NAMES[i + 1 :]])) for i in range(len(FIELDS))],
    dtype=np.int64,
)
# A date that agrees but for one slip corroborates names on its own; one merely within a year
# (a placeholder 01/01, a slip of weeks) only when both surnames agree too: namesakes of one
# given name and paterno born the same year are common, a matching materno as well is not.
_DATE_AGREE = [
    level("birth_date", lv) for lv in ("exact", "day_month_swap", "year_off_one", "one_component")
]
_DATE_NEAR = [level("birth_date", lv) for lv in ("same_year", "close_year")]
# A date within a month (no single slip, yet closer than any two siblings' but twins') with
# both surnames agreeing corroborates names in either mode: in a registry it is no sibling's.
_DATE_MONTH = level("birth_date", "within_month")
# In registry mode a materno that is neither one slip nor a close spelling of the other names
# someone else's mother (jw_low is two or more letters apart: HUAYTA / HUAMAN).
_MATERNO_OTHER = [level("materno", "jw_low"), level("materno", "different")]
_DOC_AGREE = [level("document", lv) for lv in ("equal", "transposed", "one_digit")]
_DOC_SLIP = [level("document", lv) for lv in ("transposed", "one_digit")]
_GIVEN_OTHER = [level("nombres", "different"), level("nombres", "first_only")]
_GIVEN_NEAR = [level("nombres", lv) for lv in ("one_edit", "phonetic", "jw_high", "jw_low")]
_SURNAME_AGREE = [level("paterno", lv) for lv in ("exact", "phonetic", "one_edit", "jw_high")]
_GIVEN_AGREE = [
    level("nombres", lv)
    for lv in ("exact", "reordered", "one_edit", "subset", "phonetic", "jw_high")
]


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
    """A reference person considered for a record, with the evidence for it."""

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


def contradictions(comp: Comparison) -> npt.NDArray[np.int8]:
    """How many facts a namesake cannot explain each pair holds (0-3).

    Two different valid documents; birth dates years apart (``different``: no single slip
    explains them); given names that name someone else (``different``, or only the first of
    several agreeing: MARIA ELENA vs MARIA LUISA, the twins' case; or alike but not equal
    with the other sex: FRANCISCO vs FRANCISCA).
    """
    lv = comp.levels
    doc = (lv[:, COL["document"]] == level("document", "different")) & comp.both_trusted
    dob = lv[:, COL["birth_date"]] == level("birth_date", "different")
    given = np.isin(lv[:, COL["nombres"]], _GIVEN_OTHER)
    # a given name one letter off with the other sex is a brother's or sister's name
    # (FRANCISCO / FRANCISCA, JULIO / JULIA), not a slip: a slip of both at once is rare
    gendered = np.isin(lv[:, COL["nombres"]], _GIVEN_NEAR) & (
        lv[:, COL["sex"]] == level("sex", "different")
    )
    out: npt.NDArray[np.int8] = doc.astype(np.int8) + dob + (given | gendered)
    return out


def contradiction_caps(
    comp: Comparison, weights: F64, thresholds: Thresholds, *, documents_identify: bool = False
) -> F64:
    """Weights capped where the pair contradicts itself (see the module docstring).

    Two contradictions (a namesake with another DNI and birth date; twins with their own
    DNIs; a child's row with the mother's DNI) put the pair below ``lower``: never linked,
    not even proposed. One contradiction, birth date or given names, without an equal
    document caps it at ``lower``: review at most. A different document alone is left to
    the model (a neighbour's or a parent's DNI on the right person's row is common). Nor
    is a birth date years off when the documents are one slip apart (one digit, two swapped)
    and nothing else contradicts: no namesake carries a number one keystroke from another's.

    Names alone never link either: a pair with no agreeing document and no birth date that
    agrees but for one slip (or, with both surnames agreeing, falls within a year) is capped
    at ``lower`` — that is what a namesake looks like, whatever the
    place.

    ``documents_identify``: both lists hold documents an identity authority issued to each
    record (the PGH against itself, RENIEC-validated): there two different valid DNIs are two
    people however alike the rest, so that alone is a hard contradiction. A re-registration
    carries the same DNI, none, or a slip of it (one digit, a transposition), never another
    valid one. Not for a sector's roll, where a neighbour's or a parent's DNI is common. In
    the same mode a materno that is present on both and different (or only loosely alike,
    ``jw_low``) is a contradiction too: a registry's slip leaves it one edit away, blank or
    swapped with the paterno, and a married form keeps it ("VDA. DE" is read apart, a
    materno "DE MORALES" compares as missing) — a different one is a namesake's. And a birth
    date merely within a year does not corroborate names there: a registry's dates were
    checked against the DNI when it had one, so near-but-not-a-slip is a sibling's or a
    namesake's (such pairs go to review).
    """
    n = contradictions(comp)
    if documents_identify:  # registry records: a mother's surname is not mistyped away
        n = n + np.isin(comp.levels[:, COL["materno"]], _MATERNO_OTHER)
    doc_equal = comp.levels[:, COL["document"]] == level("document", "equal")
    doc_only = (comp.levels[:, COL["document"]] == level("document", "different")) & (n == 1)
    doc_only &= comp.both_trusted
    out = weights.copy()
    lv = comp.levels
    both_surnames = np.isin(lv[:, COL["paterno"]], _SURNAME_AGREE) & np.isin(
        lv[:, COL["materno"]], _SURNAME_AGREE
    )
    near = np.isin(lv[:, COL["birth_date"]], _DATE_NEAR) & both_surnames
    if documents_identify:  # a registry's dates were checked against the DNI: near is not one
        near[:] = False
    near |= (lv[:, COL["birth_date"]] == _DATE_MONTH) & both_surnames
    corroborated = (
        np.isin(lv[:, COL["birth_date"]], _DATE_AGREE)
        | near
        | np.isin(lv[:, COL["document"]], _DOC_AGREE)
    )
    # A birth date years off is explained away by a document one slip from the other's (one
    # digit, two swapped) when nothing else contradicts: no namesake, father or son carries a
    # number one keystroke from the other's (twins' consecutive DNIs come with other given
    # names, which stay a contradiction).
    date_only = (n == 1) & (lv[:, COL["birth_date"]] == level("birth_date", "different"))
    doc_slip = date_only & np.isin(lv[:, COL["document"]], _DOC_SLIP)
    soft = ((n == 1) & ~doc_equal & ~doc_only & ~doc_slip) | ~corroborated
    # capped into [lower, lower + 0.01): review, with the candidates' order kept (two capped
    # candidates must not tie, or the review queue would show a stranger before the likelier one)
    over = soft & (out > thresholds.lower)
    out[over] = thresholds.lower + 0.01 * (1.0 - 1.0 / (1.0 + out[over] - thresholds.lower))
    hard = n >= 2
    if documents_identify:
        hard |= (comp.levels[:, COL["document"]] == level("document", "different")) & (
            comp.both_trusted
        )
    out[hard] = np.minimum(out[hard], np.nextafter(thresholds.lower, -np.inf) - 1.0)
    return out


def names_agree(levels: I8) -> npt.NDArray[np.bool_]:
    """Given names and at least one surname agree (the shortcut's condition)."""
    pat = np.isin(levels[:, COL["paterno"]], _SURNAME_AGREE)
    mat = np.isin(levels[:, COL["materno"]], _SURNAME_AGREE)
    given = np.isin(levels[:, COL["nombres"]], _GIVEN_AGREE)
    agree: npt.NDArray[np.bool_] = given & (pat | mat)
    return agree


# Birth dates and documents that leave a pair nothing to corroborate its names with: no
# date agreeing (or near), no document agreeing. Such a pair is capped below review's top
# (``contradiction_caps``) whatever its names, so a load may leave its names unscored.
_DATE_SILENT = [level("birth_date", lv) for lv in ("different", "missing")]


def capped_whatever_names(dates: I8, documents: I8) -> Bool:
    """Pairs whose final weight is below ``lower + 0.01`` whatever their names say.

    From the birth-date and document levels alone (no string compared): a date that is
    years off or missing, with no document agreeing, leaves the pair uncorroborated, and
    ``contradiction_caps`` puts an uncorroborated pair at ``lower + 0.01`` at most (below
    ``lower`` with a second contradiction). Names only move it inside that cap.
    """
    out: Bool = np.isin(dates, _DATE_SILENT) & ~np.isin(documents, _DOC_AGREE)
    return out


class Scorer:
    """A fitted model applied to pairs: level weights, term frequencies, contradiction caps."""

    def __init__(
        self,
        index: PghIndex,
        model: MatchModel,
        thresholds: Thresholds,
        *,
        documents_identify: bool = False,
    ) -> None:
        self.index = index
        self.documents_identify = documents_identify
        self.model = model
        self.thresholds = thresholds
        self.table = model.weight_table()

    def score(
        self,
        batch: QueryBatch,
        q: I32,
        r: I32,
        *,
        known: tuple[I8, I8] | None = None,
    ) -> tuple[Comparison, F64]:
        """Levels and final weights of pairs (q, r); ``known``: their date and document
        levels, when the caller has them already."""
        comp = compare(self.index, batch, q, r, known=known)
        weights = pair_weights(comp.levels, self.table)
        weights += tf_adjustment(self.model, self.index, comp)
        return comp, contradiction_caps(
            comp, weights, self.thresholds, documents_identify=self.documents_identify
        )


class Matcher:
    """Matches batches of records against one reference index with one fitted model.

    ``complete``: every candidate of every record is scored, so a linked record's other
    candidates come with it (an analyst's `rnu match` lists them). A load keeps only a
    linked row's best, so with ``complete=False`` the pairs no name could lift out of their
    cap (``capped_whatever_names``: most of a dateless or undocumented row's candidates)
    are scored only for records the other pairs left unlinked or close to a runner-up; the
    outcome, best weight, agreements and a review row's candidates are the same either way.
    """

    def __init__(
        self,
        index: PghIndex,
        model: MatchModel,
        thresholds: Thresholds,
        *,
        max_candidates: int = 3,
        batch_size: int = 20_000,
        complete: bool = True,
    ) -> None:
        self.index = index
        self.model = model
        self.thresholds = thresholds
        self.max_candidates = max_candidates
        self.batch_size = batch_size
        self.complete = complete
        self.scorer = Scorer(index, model, thresholds)
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
        """As ``match_many`` for records that are themselves rows ``first_row..`` of the index."""
        out: list[MatchResult] = []
        for start in range(0, len(records), self.batch_size):
            chunk = records[start : start + self.batch_size]
            out.extend(self._match_batch(chunk, first_row + start))
        return out

    # -- internals ------------------------------------------------------------------------

    def describe(self, code: int) -> dict[str, str]:
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
        th = self.thresholds

        # 1. shortcut: the document's only holder, clearly this person
        has_doc = batch.columns.doc >= 0
        if batch.odd_docs:
            has_doc[list(batch.odd_docs)] = True
        q, r = index.lookup_documents(batch, all_rows[has_doc])
        q, r = _drop_self(q, r, self_offset)
        if len(q):
            comp, weights = self.scorer.score(batch, q, r)
            holders = np.bincount(q, minlength=n)
            sure = (
                (holders[q] == 1)
                & batch.trusted[q]
                & (weights >= th.upper)
                & (contradictions(comp) == 0)
                & names_agree(comp.levels)
            )
            keys = index.keys
            describe = self.describe
            for i, row, code, w in zip(
                q[sure].tolist(),
                r[sure].tolist(),
                _level_codes(comp.levels[sure]).tolist(),
                weights[sure].tolist(),
                strict=True,
            ):
                results[i] = MatchResult(
                    "linked", keys[row], "exact_document", w, describe(code), []
                )

        # 2. everyone else: blocked candidates plus document holders, one score
        todo = np.flatnonzero(np.array([res is None for res in results])).astype(np.int32)
        if len(todo):
            q, r = index.candidate_pairs(batch, todo, schemes=_FIRST_PASS)
            q, r = _drop_self(q, r, self_offset)
            self._score_and_decide(results, batch, q, r)
            # 3. rows still without a link: the second-pass rules too, scored with the rest
            linked = np.array(
                [
                    (res := results[i]) is not None and res.outcome == "linked"
                    for i in todo.tolist()
                ],
                dtype=np.bool_,
            )
            again = todo[~linked]
            if len(again):
                q2, r2 = index.candidates(batch, again, SECOND_PASS_SCHEMES)
                q2, r2 = _drop_self(q2, r2, self_offset)
                if len(q2):
                    mine = np.isin(q, again)
                    n_idx = len(index.keys) + 1
                    code = unique_int64(
                        np.concatenate([
                            q[mine].astype(np.int64) * n_idx + r[mine],
                            q2.astype(np.int64) * n_idx + r2,
                        ])
                    )  # fmt: skip
                    q3 = (code // n_idx).astype(np.int32)
                    r3 = (code % n_idx).astype(np.int32)
                    self._score_and_decide(results, batch, q3, r3)
        return [res if res is not None else unmatched() for res in results]

    def _score_and_decide(
        self, results: list[MatchResult | None], batch: QueryBatch, q: I32, r: I32
    ) -> None:
        """Score the pairs (q, r) and fill ``results`` for their query rows.

        Not ``complete``: pairs capped whatever their names are left out first; a record
        whose best remaining pair links with more than ``margin`` over the cap is settled
        (no capped pair could be its best or a runner-up close enough to make it ambiguous),
        and only the other records have their capped pairs scored and are decided again on
        all their pairs, in the original pair order (ties break as in a complete run).
        """
        if self.complete or len(q) == 0:
            comp, weights = self.scorer.score(batch, q, r)
            self._decide(results, q, r, comp.levels, weights)
            return
        qc, ic = batch.columns, self.index.columns
        dates = date_levels(qc.dob[q], ic.dob[r])
        documents = doc_levels(qc.doc[q], ic.doc[r])
        capped = capped_whatever_names(dates, documents)
        keep = np.flatnonzero(~capped)
        comp, weights = self.scorer.score(
            batch, q[keep], r[keep], known=(dates[keep], documents[keep])
        )
        self._decide(results, q[keep], r[keep], comp.levels, weights)
        if not capped.any():
            return
        th = self.thresholds
        floor = th.lower + 0.01  # a capped pair's final weight is below this
        asked = np.unique(q[capped]).tolist()
        open_ = np.array(
            [
                (res := results[i]) is None
                or res.outcome != "linked"
                or res.weight - th.margin < floor
                for i in asked
            ],
            dtype=np.bool_,
        )
        if not open_.any():
            return
        again = np.isin(q, np.asarray(asked, dtype=np.int32)[open_])
        fresh = np.flatnonzero(again & capped)
        comp2, weights2 = self.scorer.score(
            batch, q[fresh], r[fresh], known=(dates[fresh], documents[fresh])
        )
        old = np.flatnonzero(again[keep])  # positions in ``keep`` of those records' pairs
        where = np.concatenate([keep[old], fresh])
        order = np.argsort(where, kind="stable")
        idx = where[order]
        levels = np.concatenate([comp.levels[old], comp2.levels])[order]
        self._decide(
            results, q[idx], r[idx], levels, np.concatenate([weights[old], weights2])[order]
        )

    def _decide(
        self,
        results: list[MatchResult | None],
        q: I32,
        r: I32,
        levels: I8,
        weights: F64,
    ) -> None:
        """Fill ``results`` for each query row from its scored candidate pairs.

        Outcomes are decided for all rows at once; a row's candidate list is built only
        where it is kept (a review row's, or every row's when ``complete``): building three
        candidates for every linked row of a load was a fifth of the fuzzy path's time.
        """
        n = len(q)
        if n == 0:
            return
        if n > 1 and (q[1:] < q[:-1]).any():  # callers pass pairs by query row; just in case
            o = np.argsort(q, kind="stable")
            q, r, levels, weights = q[o], r[o], levels[o], weights[o]
        th = self.thresholds
        starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])
        ends = np.r_[starts[1:], n]
        group = np.repeat(np.arange(len(starts)), ends - starts)
        # best and runner-up per row without sorting: the best's first pair (ties go to the
        # earlier pair, as a stable sort by weight would), then the best of the others
        best = np.maximum.reduceat(weights, starts)
        first = np.minimum.reduceat(np.where(weights == best[group], np.arange(n), n), starts)
        first = np.minimum(first, ends - 1)  # (a NaN weight, never expected, still picks one)
        others = weights.copy()
        others[first] = -np.inf
        second = np.maximum.reduceat(others, starts)
        ambiguous = (second >= th.lower) & (best - second < th.margin)
        linked = (best >= th.upper) & ~ambiguous
        review = ~linked & (best >= th.lower)
        doc_equal = (levels[first, COL["document"]] == level("document", "equal")).tolist()
        codes = _level_codes(levels[first]).tolist()
        full = np.ones(len(starts), dtype=np.bool_) if self.complete else review
        keys = self.index.keys
        describe = self.describe
        cands_of: dict[int, list[Candidate]] = {}
        if full.any():  # the kept rows' candidates: their pairs by weight, the first k
            sub = np.flatnonzero(full[group])
            sub = sub[np.lexsort((-weights[sub], q[sub]))]
            sg = group[sub]
            sub_starts = np.flatnonzero(np.r_[True, sg[1:] != sg[:-1]])
            sub_ends = np.r_[sub_starts[1:], len(sub)]
            k = self.max_candidates
            at = np.concatenate(
                [sub[s : min(e, s + k)] for s, e in zip(sub_starts, sub_ends, strict=True)]
            )
            described = [describe(c) for c in _level_codes(levels[at]).tolist()]
            picked = zip(r[at].tolist(), weights[at].tolist(), described, strict=True)
            sizes = np.minimum(sub_ends - sub_starts, k).tolist()
            for g, size in zip(sg[sub_starts].tolist(), sizes, strict=True):
                cands_of[g] = [Candidate(keys[row], w, agr) for row, w, agr in islice(picked, size)]
        for g, (qi, row, w, is_linked, is_review) in enumerate(
            zip(
                q[starts].tolist(),
                r[first].tolist(),
                best.tolist(),
                linked.tolist(),
                review.tolist(),
                strict=True,
            )
        ):
            cands = cands_of.get(g, [])
            if not is_linked and not is_review:
                results[qi] = MatchResult("unmatched", None, "none", w, describe(codes[g]), cands)
                continue
            method: Method = "exact_document" if doc_equal[g] else "fuzzy"
            results[qi] = MatchResult(
                "linked" if is_linked else "review",
                keys[row],
                method,
                w,
                describe(codes[g]),
                cands,
            )


_FIRST_PASS = tuple(s for s in BLOCK_SCHEMES if s not in SECOND_PASS_SCHEMES)
_NO_AGREEMENTS: dict[str, str] = {}


def unmatched() -> MatchResult:
    """The result for a record with no candidate at all (shares one empty agreements dict)."""
    return MatchResult("unmatched", None, "none", 0.0, _NO_AGREEMENTS, [])


def _level_codes(levels: I8) -> npt.NDArray[np.int64]:
    return levels.astype(np.int64) @ _RADIX


def _drop_self(q: I32, r: I32, offset: int | None) -> tuple[I32, I32]:
    if offset is None or len(q) == 0:
        return q, r
    keep = r != q + offset
    return q[keep], r[keep]
