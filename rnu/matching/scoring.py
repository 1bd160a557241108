"""Field comparisons into discrete agreement levels, and Fellegi–Sunter weights over them.

Each comparison maps a record pair to one level per field; a fitted ``MatchModel`` gives each
level a weight log2(m/u), where m = P(level | same person) and u = P(level | different
people). A pair's weight is the sum over fields, plus a term-frequency adjustment for names
that agree exactly (agreeing on QUISPE says less than agreeing on a rare surname), so every
link is explained by its levels. A value missing on either side has weight 0: it says
nothing either way.

Names are compared by position *and* across positions: the comparison takes the straight
reading, the reading with paterno and materno swapped, or the one with given name and
paterno swapped, whichever agrees best (``swapped`` records which, and weighs nothing itself).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from rnu.matching.index import I8, I32, I64, PghIndex, QueryBatch, initials_agree

F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

_SURNAME_LEVELS = ("exact", "phonetic", "one_edit", "jw_high", "jw_low", "different", "missing")
# Levels in order of decreasing agreement; "missing" means one side has no value.
FIELDS: dict[str, tuple[str, ...]] = {
    "paterno": _SURNAME_LEVELS,
    "materno": _SURNAME_LEVELS,
    "swapped": ("straight", "swapped", "given_swapped"),
    "nombres": (
        "exact",
        "reordered",
        "one_edit",
        "subset",
        "phonetic",
        "jw_high",
        "first_only",
        "jw_low",
        "different",
        "missing",
    ),
    "birth_date": (
        "exact",
        "day_month_swap",
        "year_off_one",
        "one_component",
        "within_month",
        "same_year",
        "close_year",
        "different",
        "missing",
    ),
    "sex": ("same", "different", "missing"),
    "ubigeo": ("district", "province", "department", "none", "missing"),
    "place": ("exact", "similar", "different", "missing"),
    "document": ("equal", "transposed", "one_digit", "different", "missing"),
}
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS)
NAME_FIELDS: tuple[str, ...] = ("paterno", "materno", "swapped", "nombres")
# Fields whose weight is fixed at 0: ``swapped`` only says which reading of the names was
# compared, the name fields themselves carry the evidence.
NEUTRAL_FIELDS = frozenset({"swapped"})
# Fields whose exact agreement is adjusted by the value's frequency in the reference list.
TF_FIELDS: tuple[str, ...] = ("paterno", "materno", "nombres")
JW_HIGH = 0.92  # Jaro–Winkler cut-offs, as Splink's name comparisons use
JW_LOW = 0.80
_LEVEL = {f: {lv: i for i, lv in enumerate(levels)} for f, levels in FIELDS.items()}
COL = {f: i for i, f in enumerate(FIELD_NAMES)}


def level(field_name: str, name: str) -> int:
    """Index of a named level, for readable vectorised comparisons."""
    return _LEVEL[field_name][name]


@dataclass
class MatchModel:
    """Fitted m and u probabilities per field and level, and the match prior among pairs.

    ``tf_weight`` scales the term-frequency adjustment (1 = Splink's full adjustment, 0 off).
    """

    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior: float
    method: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    tf_weight: float = 1.0

    def weight_table(self) -> F64:
        """log2(m/u) as a (field, level) matrix, 0 for "missing", neutral fields and padding."""
        width = max(len(v) for v in FIELDS.values())
        table = np.zeros((len(FIELDS), width), dtype=np.float64)
        for i, (f, levels) in enumerate(FIELDS.items()):
            for j, lv in enumerate(levels):
                table[i, j] = self.weight(f, lv)
        return table

    def weight(self, field_name: str, level_name: str) -> float:
        """The weight of one level."""
        if level_name == "missing" or field_name in NEUTRAL_FIELDS:
            return 0.0
        return math.log2(self.m[field_name][level_name] / self.u[field_name][level_name])

    def to_json(self) -> str:
        """Serialise, so a fitted model is versioned with the data it was fitted on."""
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        """Inverse of ``to_json``."""
        data = json.loads(text)
        return cls(
            m=data["m"],
            u=data["u"],
            prior=data["prior"],
            method=data.get("method", ""),
            notes=data.get("notes", {}),
            tf_weight=data.get("tf_weight", 1.0),
        )


@dataclass(slots=True)
class Comparison:
    """Levels of a batch of pairs, and what the weights need beyond them.

    ``ref`` holds, per name field, the reference-side name code that was compared (after any
    swap), for the term-frequency adjustment; ``both_trusted`` says both documents are
    valid, so a different one contradicts identity.
    """

    levels: I8
    ref: I32
    both_trusted: Bool


def distinct(values: I64) -> tuple[I64, npt.NDArray[np.intp]]:
    """The distinct values (in order of first appearance) and where each value is among them.

    Arrow's hash-based dictionary encoding, not ``np.unique``: a chunk's name pairs repeat a
    lot (616k surname pairs, 36k distinct), and sorting them cost 10x scoring the distinct
    ones; hashing is 5-12x faster than the sort and the order of the distinct pairs does not
    matter to anyone.
    """
    # malloc's pool, not Arrow's default (mimalloc), which keeps freed chunks: 20 MB less
    # peak RSS over a fuzzy load, no slower
    encoded = pc.dictionary_encode(
        pa.array(values, type=pa.int64()), memory_pool=pa.system_memory_pool()
    )
    uniq: I64 = encoded.dictionary.to_numpy(zero_copy_only=False)
    inverse: npt.NDArray[np.intp] = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    return uniq, inverse


@dataclass(slots=True)
class _Pairs:
    """The distinct pairs of two name-code columns that need a comparison: positions of
    the pairs with two different non-empty names, those pairs' distinct codes, and where
    each position's pair is among them."""

    differ: npt.NDArray[np.intp]
    left: I32
    right: I32
    inverse: npt.NDArray[np.intp]


def _distinct_pairs(index: PghIndex, batch: QueryBatch, qcodes: I32, rcodes: I32) -> _Pairs:
    differ = np.flatnonzero((qcodes != rcodes) & (qcodes != 0) & (rcodes != 0))
    base = len(index.name_strings) + len(batch.extra_names) + 1
    uniq, inverse = distinct(qcodes[differ].astype(np.int64) * base + rcodes[differ])
    return _Pairs(differ, (uniq // base).astype(np.int32), (uniq % base).astype(np.int32), inverse)


def _pair_scores(
    index: PghIndex,
    batch: QueryBatch,
    qcodes: I32,
    rcodes: I32,
    scorers: tuple[tuple[Any, Any, Any], ...],
    pairs: _Pairs | None = None,
) -> list[npt.NDArray[Any]]:
    """rapidfuzz scores of name pairs, each distinct pair computed once in C, in parallel.

    ``scorers`` are (scorer, dtype, value for equal names); pairs of equal codes or with an
    empty side are not scored (equal: that value; empty: 0, or 99 for a distance, whose
    value for equal names is 0). ``pairs``: the columns' distinct pairs, when the caller
    needs them for another test as well.
    """
    n = len(qcodes)
    out = [np.full(n, same, dtype=dtype) for _, dtype, same in scorers]
    if n == 0:
        return out
    empty = (qcodes == 0) | (rcodes == 0)
    for target, (_, _, same) in zip(out, scorers, strict=True):
        # an empty side scores as far as can be: 0 similarity, or a large distance
        target[empty & (qcodes != rcodes)] = 0 if same else 99
    pairs = pairs or _distinct_pairs(index, batch, qcodes, rcodes)
    if len(pairs.differ) == 0:
        return out
    left = index.name_text(pairs.left, batch)
    right = index.name_text(pairs.right, batch)
    workers = 1 if len(left) < PARALLEL_PAIRS else -1
    for target, (scorer, dtype, _) in zip(out, scorers, strict=True):
        scores = process.cpdist(left, right, scorer=scorer, dtype=dtype, workers=workers)
        target[pairs.differ] = np.asarray(scores, dtype=dtype)[pairs.inverse]
    return out


# Name pairs from which rapidfuzz's threads pay: below, starting them cost more than the
# pairs (0.5 ms a call at 500 pairs, 1 µs a pair against 0.1–0.2 on one thread; a load
# chunk's calls score a few thousand distinct pairs each). One thread releases the GIL too.
PARALLEL_PAIRS = 50_000
_JW = (JaroWinkler.normalized_similarity, np.float32, 1.0)
_OSA = (OSA.distance, np.int32, 0)
_WORD_SCORERS = ((fuzz.token_sort_ratio, np.uint8, 100), (fuzz.token_set_ratio, np.uint8, 100))


def _word_agreement(
    index: PghIndex, batch: QueryBatch, qcodes: I32, rcodes: I32, pairs: _Pairs | None = None
) -> tuple[Bool, Bool]:
    """Given names with the same words in any order, and given names one of whose words
    are all among the other's: rapidfuzz's token_sort_ratio and token_set_ratio of 100.

    Only "is it 100" was ever read from those two scorers, and that is a set test: done
    exactly on word ids (``PghIndex.name_tokens``), it costs a few integer compares a pair
    where the two scorers were three quarters of the fuzzy path's string work. Names the
    word slots cannot hold go to rapidfuzz as before. Equal names agree both ways; a name
    against an empty one in neither.
    """
    equal = qcodes == rcodes
    same, subset = equal.copy(), equal.copy()
    pairs = pairs or _distinct_pairs(index, batch, qcodes, rcodes)
    differ, inverse = pairs.differ, pairs.inverse
    if len(differ) == 0:
        return same, subset
    ta = index.name_tokens(pairs.left, batch)
    tb = index.name_tokens(pairs.right, batch)
    # slot by slot (16 compares of two columns): reductions over a 4x4 axis cost 3x more
    slots = range(ta.shape[1])
    a_found = [ta[:, i] < 0 for i in slots]  # padding is found; a word when b holds it
    b_found = [tb[:, j] < 0 for j in slots]
    common = np.zeros(len(pairs.left), dtype=np.bool_)
    for i in slots:
        word = ta[:, i] >= 0
        for j in slots:
            hit = (ta[:, i] == tb[:, j]) & word
            a_found[i] |= hit
            b_found[j] |= hit
            common |= hit
    a_in_b, b_in_a = np.logical_and.reduce(a_found), np.logical_and.reduce(b_found)
    same_words = np.logical_and.reduce([ta[:, i] == tb[:, i] for i in slots])
    same[differ] = same_words[inverse]
    subset[differ] = (common & (a_in_b | b_in_a))[inverse]
    odd = differ[((ta[:, 0] == -2) | (tb[:, 0] == -2))[inverse]]
    if len(odd):
        by_sort, by_set = _pair_scores(index, batch, qcodes[odd], rcodes[odd], _WORD_SCORERS)
        same[odd], subset[odd] = by_sort == 100, by_set == 100
    return same, subset


def _name_levels(
    field_name: str,
    qa: I32,
    rb: I32,
    keys_equal: Bool,
    jw: npt.NDArray[np.float32],
    osa: npt.NDArray[np.int32],
) -> I8:
    out = np.full(len(qa), level(field_name, "different"), dtype=np.int8)
    out[jw >= JW_LOW] = level(field_name, "jw_low")
    out[jw >= JW_HIGH] = level(field_name, "jw_high")
    out[osa == 1] = level(field_name, "one_edit")
    out[keys_equal] = level(field_name, "phonetic")
    out[qa == rb] = level(field_name, "exact")
    out[(qa == 0) | (rb == 0)] = level(field_name, "missing")
    return out


def compare(
    index: PghIndex,
    batch: QueryBatch,
    q: I32,
    r: I32,
    *,
    known: tuple[I8, I8] | None = None,
) -> Comparison:
    """Agreement levels of query rows ``q`` against index rows ``r``: (pairs, fields) int8.

    ``known``: the pairs' birth-date and document levels, already computed by a caller that
    needed them first (the matcher, to leave out pairs no name can lift).
    """
    qc, ic = batch.columns, index.columns
    n = len(q)
    out = np.zeros((n, len(FIELDS)), dtype=np.int8)
    qp, qm, qn = qc.paterno[q], qc.materno[q], qc.nombres[q]
    rp, rm, rn = ic.paterno[r], ic.materno[r], ic.nombres[r]

    # -- which reading of the names: straight, surnames swapped, given <-> paterno swapped
    key = index.name_surname_key  # phonetic key of any name string, by code
    kq = index.phonetic_codes(np.concatenate([qp, qm, qn]), batch, "surname")
    kqp, kqm, kqn = kq[:n], kq[n : 2 * n], kq[2 * n :]
    krp, krm, krn = key[rp], key[rm], key[rn]
    # straight reading: every score at once per field (each distinct pair of names once)
    jw_pp, osa_pp = _pair_scores(index, batch, qp, rp, (_JW, _OSA))
    jw_mm, osa_mm = _pair_scores(index, batch, qm, rm, (_JW, _OSA))
    given = _distinct_pairs(index, batch, qn, rn)
    jw_nn, osa_nn = _pair_scores(index, batch, qn, rn, (_JW, _OSA), given)
    sort_nn, set_nn = _word_agreement(index, batch, qn, rn, given)
    straight = jw_pp + jw_mm + jw_nn
    arrangement = np.zeros(n, dtype=np.int8)
    # only pairs whose names meet across positions are worth scoring that way
    loose = (jw_pp < JW_HIGH) | (jw_nn < JW_HIGH)
    # (same phonetic key, or same initial on both crossed sides: typos rarely hit the first
    # letter, so "NGUY EN"/"ELIXA" still meets "ELIZA"/"NGUYEN")
    iq = index.initials(np.concatenate([qp, qm, qn]), batch)
    iqp, iqm, iqn = iq[:n], iq[n : 2 * n], iq[2 * n :]
    irp, irm, irn = index.name_initial[rp], index.name_initial[rm], index.name_initial[rn]
    cross_sw = ((kqp == krm) | (kqm == krp) | ((iqp == irm) & (iqm == irp))) & (kqp > 0)
    cross_gs = ((kqn == krp) | (kqp == krn) | ((iqn == irp) & (iqp == irn))) & (kqp > 0)
    sw = np.flatnonzero(loose & (qm > 0) & (rm > 0) & cross_sw)
    gs = np.flatnonzero(loose & (qn > 0) & (rn > 0) & cross_gs)
    jw_p = jw_pp.copy()
    jw_m = jw_mm.copy()
    jw_n = jw_nn.copy()
    best = straight.copy()
    if len(sw):
        (a,) = _pair_scores(index, batch, qp[sw], rm[sw], (_JW,))
        (b,) = _pair_scores(index, batch, qm[sw], rp[sw], (_JW,))
        better = a + b + jw_nn[sw] > best[sw] + 0.2  # a clear gain, not noise
        idx = sw[better]
        arrangement[idx] = 1
        jw_p[idx], jw_m[idx] = a[better], b[better]
        best[idx] = (a + b + jw_nn[sw])[better]
    if len(gs):
        (a,) = _pair_scores(index, batch, qn[gs], rp[gs], (_JW,))
        (b,) = _pair_scores(index, batch, qp[gs], rn[gs], (_JW,))
        total = a + b + jw_mm[gs]
        better = total > best[gs] + 0.2
        idx = gs[better]
        arrangement[idx] = 2
        jw_p[idx], jw_n[idx], jw_m[idx] = a[better], b[better], jw_mm[idx]
    s1, s2 = arrangement == 1, arrangement == 2
    ap = np.where(s2, qn, qp)  # query code compared with the reference paterno slot
    an = np.where(s2, qp, qn)
    bp = np.where(s1, rm, rp)  # reference code compared with the query paterno slot
    bm = np.where(s1, rp, rm)
    kap = np.where(s2, kqn, kqp)
    kbp = np.where(s1, krm, krp)
    kbm = np.where(s1, krp, krm)
    out[:, COL["swapped"]] = arrangement

    # -- surnames (scores of the straight reading; re-scored only where a swap was taken)
    osa_p, osa_m, osa_n, s_sort, s_set = osa_pp, osa_mm, osa_nn, sort_nn, set_nn
    moved = np.flatnonzero(arrangement != 0)
    if len(moved):
        osa_p, osa_m = osa_pp.copy(), osa_mm.copy()
        osa_n, s_sort, s_set = osa_nn.copy(), sort_nn.copy(), set_nn.copy()
        (osa_p[moved],) = _pair_scores(index, batch, ap[moved], bp[moved], (_OSA,))
        (osa_m[moved],) = _pair_scores(index, batch, qm[moved], bm[moved], (_OSA,))
        moved_given = _distinct_pairs(index, batch, an[moved], rn[moved])
        (osa_n[moved],) = _pair_scores(index, batch, an[moved], rn[moved], (_OSA,), moved_given)
        s_sort[moved], s_set[moved] = _word_agreement(
            index, batch, an[moved], rn[moved], moved_given
        )
    out[:, COL["paterno"]] = _name_levels("paterno", ap, bp, (kap == kbp) & (kap > 0), jw_p, osa_p)
    mat = _name_levels("materno", qm, bm, (kqm == kbm) & (kqm > 0), jw_m, osa_m)
    # a materno of "DE" and one word ("DE MORALES") is a married woman's husband's surname as
    # often as a birth surname: unless both say the same, it says nothing about her mother's
    married = index.married_forms(qm, batch) | index.married_forms(bm, batch)
    mat[married & (mat != level("materno", "exact"))] = level("materno", "missing")
    out[:, COL["materno"]] = mat

    # -- given names: token aware for compound names (MARIA vs MARIA ELENA)
    gq = index.phonetic_codes(an, batch, "given_full")
    gr = index.name_given_key_full[rn]
    first_q = index.phonetic_codes(an, batch, "given_first")
    first_r = index.name_given_key_first[rn]
    nom = _name_levels("nombres", an, rn, np.zeros(n, dtype=np.bool_), jw_n, osa_n)
    weak = (nom == level("nombres", "jw_low")) | (nom == level("nombres", "different"))
    nom[weak & (first_q == first_r) & (first_q > 0)] = level("nombres", "first_only")
    close = nom >= level("nombres", "jw_high")  # levels below phonetic may be lifted
    nom[close & (gq == gr) & (gq > 0)] = level("nombres", "phonetic")
    nom[(nom > level("nombres", "subset")) & s_set] = level("nombres", "subset")
    nom[(nom > level("nombres", "one_edit")) & (osa_n == 1)] = level("nombres", "one_edit")
    nom[(nom > level("nombres", "reordered")) & s_sort] = level("nombres", "reordered")
    nom[an == rn] = level("nombres", "exact")
    nom[(an == 0) | (rn == 0)] = level("nombres", "missing")
    _lift_initials(index, batch, an, rn, nom)
    out[:, COL["nombres"]] = nom
    _read_as_bags(index, batch, (qn, qp, qm), (rn, rp, rm), out)

    dates, documents = known or (
        date_levels(qc.dob[q], ic.dob[r]),
        doc_levels(qc.doc[q], ic.doc[r]),
    )
    out[:, COL["birth_date"]] = dates

    qs, rs = qc.sex[q], ic.sex[r]
    sex = np.where(qs == rs, level("sex", "same"), level("sex", "different")).astype(np.int8)
    sex[(qs == 0) | (rs == 0)] = level("sex", "missing")
    out[:, COL["sex"]] = sex

    qu, ru = qc.ubigeo[q], ic.ubigeo[r]
    ubi = np.full(n, level("ubigeo", "none"), dtype=np.int8)
    ubi[qu // 10000 == ru // 10000] = level("ubigeo", "department")
    ubi[qu // 100 == ru // 100] = level("ubigeo", "province")
    ubi[qu == ru] = level("ubigeo", "district")
    ubi[(qu < 0) | (ru < 0)] = level("ubigeo", "missing")
    out[:, COL["ubigeo"]] = ubi

    out[:, COL["place"]] = _place_levels(index, batch, qc.place[q], index.place_column()[r])

    out[:, COL["document"]] = documents
    ref = np.stack([bp, bm, rn], axis=1).astype(np.int32)
    return Comparison(out, ref, batch.trusted[q])


def _lift_initials(index: PghIndex, batch: QueryBatch, an: I32, rn: I32, nom: I8) -> None:
    """Given names written with initials ("L. ALBERTO" for "LUIS ALBERTO") agree as a
    shortened form does (``subset``) instead of falling to a weak level or ``different``.

    Only pairs with an initial on one side and a weaker level are looked at, once per
    distinct pair of names.
    """
    weak = (nom > level("nombres", "subset")) & (nom != level("nombres", "missing"))
    cand = np.flatnonzero(weak)
    if len(cand) == 0:
        return
    cand = cand[index.has_initials(an[cand], batch) | index.has_initials(rn[cand], batch)]
    if len(cand) == 0:
        return
    # weak levels are neither exact nor missing: every candidate pair differs, none empty
    pairs = _distinct_pairs(index, batch, an[cand], rn[cand])
    left, right = index.name_text(pairs.left, batch), index.name_text(pairs.right, batch)
    agree = np.array([initials_agree(a, b) for a, b in zip(left, right, strict=True)])
    nom[cand[pairs.differ[agree[pairs.inverse]]]] = level("nombres", "subset")


def _read_as_bags(
    index: PghIndex,
    batch: QueryBatch,
    query: tuple[I32, I32, I32],
    ref: tuple[I32, I32, I32],
    out: I8,
) -> None:
    """Names whose words are all the same, written in other columns, agree.

    "CÁCERES MIGUEL | ÁNGEL | SALAZAR" is MIGUEL ÁNGEL CÁCERES SALAZAR with the paterno
    moved into the given names and a given name into the paterno: no reading by columns
    (straight, surnames swapped, given and paterno swapped) meets it, but the two names are
    the same bag of words. Such a pair is read as every part agreeing in another order
    (surnames exact, given names ``reordered``, ``given_swapped``). Only for a reference with
    all three parts (three words at least), and only where the column readings left the
    given names or the paterno weak.
    """
    rn, rp, rm = ref
    full = (rn > 0) & (rp > 0) & (rm > 0)
    weak = (out[:, COL["nombres"]] > level("nombres", "one_edit")) | (
        out[:, COL["paterno"]] > level("paterno", "one_edit")
    )
    cand = np.flatnonzero(full & weak)
    if len(cand) == 0:
        return
    with np.errstate(over="ignore"):
        bq = sum((index.word_bags(c[cand], batch) for c in query), np.uint64(0))
        br = sum((index.word_bags(c[cand], batch) for c in ref), np.uint64(0))
    same = cand[(bq == br) & (bq != 0)]
    out[same, COL["paterno"]] = level("paterno", "exact")
    out[same, COL["materno"]] = level("materno", "exact")
    out[same, COL["nombres"]] = level("nombres", "reordered")
    out[same, COL["swapped"]] = level("swapped", "given_swapped")


def _place_levels(index: PghIndex, batch: QueryBatch, a: I32, b: I32) -> I8:
    out = np.full(len(a), level("place", "different"), dtype=np.int8)
    (jw,) = _pair_scores(index, batch, a, b, (_JW,))
    out[jw >= JW_HIGH] = level("place", "similar")
    out[a == b] = level("place", "exact")
    out[(a == 0) | (b == 0)] = level("place", "missing")
    return out


def _digits(values: I64, width: int) -> npt.NDArray[np.int64]:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def _typo_kind(a: I64, b: I64, width: int) -> tuple[Bool, Bool]:
    """(one digit replaced, two adjacent digits transposed) between equal-width numbers."""
    da, db = _digits(a, width), _digits(b, width)
    diff = da != db
    ndiff = diff.sum(axis=1)
    one = ndiff == 1
    if width < 2:
        return one, np.zeros(len(a), dtype=np.bool_)
    adjacent = diff[:, :-1] & diff[:, 1:]
    crossed = (da[:, :-1] == db[:, 1:]) & (da[:, 1:] == db[:, :-1])
    transposed = (ndiff == 2) & (adjacent & crossed).any(axis=1)
    return one, transposed


def _days(y: I64, m: I64, d: I64) -> I64:
    """Day number of proleptic Gregorian dates (days from civil, vectorised)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe  # type: ignore[no-any-return]


def _slipped(a: I64, b: I64, where: Bool, width: int) -> I64:
    """Positions among `where` whose values are one keystroke apart: one digit replaced or
    two adjacent swapped, or (for a two-digit day or month) one off."""
    idx = np.flatnonzero(where)
    if not len(idx):
        return idx
    x, y = a[idx], b[idx]
    one_digit, transposed = _typo_kind(x, y, width)
    slip = one_digit | transposed
    if width == 2:
        slip |= np.abs(x - y) == 1
    return idx[slip]


def date_levels(a: I32, b: I32) -> I8:
    """Birth-date levels of YYYYMMDD ints (0 = unknown), compared by component, not digit.

    ``one_component`` is one of day, month or year written wrong by one slip: one digit
    differs or two are swapped (1965/1956, not 1916/1965; 12/21, not 19/22), or a day or
    month is one off.
    ``within_month`` is two dates at most 31 days apart that no single slip explains (a
    month and a day off together, 28/10 and 27/11): siblings are never born that close, so
    it says more than the same or a close year. ``different`` is two dates more than a
    year apart that no single slip explains: the contradiction a namesake cannot explain
    away.
    """
    out = np.full(len(a), level("birth_date", "exact"), dtype=np.int8)
    out[(a == 0) | (b == 0)] = level("birth_date", "missing")
    # only pairs of two known, unequal dates need the component work below: in a load's
    # candidates (blocked by birth date) about half the pairs carry the same date
    idx = np.flatnonzero((a != b) & (a != 0) & (b != 0))
    if len(idx):
        out[idx] = _unequal_date_levels(a[idx].astype(np.int64), b[idx].astype(np.int64))
    return out


def _unequal_date_levels(a64: I64, b64: I64) -> I8:
    """``date_levels`` of known dates that are not equal (every level but exact/missing)."""
    ya, ma, da = a64 // 10000, (a64 // 100) % 100, a64 % 100
    yb, mb, db = b64 // 10000, (b64 // 100) % 100, b64 % 100
    same_y, same_m, same_d = ya == yb, ma == mb, da == db
    out = np.full(len(a64), level("birth_date", "different"), dtype=np.int8)
    close = np.abs(ya - yb) <= 1
    out[close] = level("birth_date", "close_year")
    out[same_y] = level("birth_date", "same_year")
    # within a month: one calendar month's days always are; otherwise count the days
    out[same_y & same_m] = level("birth_date", "within_month")
    near = np.flatnonzero(close & ~(same_y & same_m))
    if len(near):
        apart = np.abs(_days(ya[near], ma[near], da[near]) - _days(yb[near], mb[near], db[near]))
        out[near[apart <= 31]] = level("birth_date", "within_month")
    # One component written wrong by one slip, the other two equal. Each slip test runs
    # only on the pairs it can change (digit matrices of every pair were a tenth of the
    # fuzzy path's CPU). A slip in the year is one digit or two swapped (1965 -> 1956),
    # not 1916 -> 1965 ...
    out[_slipped(ya, yb, same_m & same_d & ~same_y, 4)] = level("birth_date", "one_component")
    # ... and a slip in the day or the month is one digit, two swapped or one off (19 -> 18,
    # 12 -> 21, 20 -> 19), not 19 -> 22: that is another day (``within_month`` at most)
    out[_slipped(da, db, same_y & same_m & ~same_d, 2)] = level("birth_date", "one_component")
    out[_slipped(ma, mb, same_y & same_d & ~same_m, 2)] = level("birth_date", "one_component")
    out[same_m & same_d & (np.abs(ya - yb) == 1)] = level("birth_date", "year_off_one")
    out[same_y & (ma == db) & (da == mb) & (ma != da)] = level("birth_date", "day_month_swap")
    return out


def doc_levels(a: I64, b: I64) -> I8:
    """Document levels; documents of different kinds (DNI vs CE) cannot be compared."""
    out = np.full(len(a), level("document", "different"), dtype=np.int8)
    scale = np.int64(10**13)
    present = (a >= 0) & (b >= 0) & (a // scale // 16 == b // scale // 16)
    same_shape = present & (a // scale == b // scale) & (a != b)
    if same_shape.any():
        idx = np.flatnonzero(same_shape)
        one, transposed = _typo_kind(a[idx] % scale, b[idx] % scale, 13)
        out[idx[one]] = level("document", "one_digit")
        out[idx[transposed]] = level("document", "transposed")
    out[present & (a == b)] = level("document", "equal")
    out[~present] = level("document", "missing")
    return out


def pair_weights(levels: I8, table: F64) -> F64:
    """Sum of the per-level weights of each pair."""
    cols = np.arange(levels.shape[1])
    return table[cols[None, :], levels.astype(np.intp)].sum(axis=1)  # type: ignore[no-any-return]


_TF_FLOOR = 1e-7


def tf_adjustment(model: MatchModel, index: PghIndex, comp: Comparison) -> F64:
    """Term-frequency adjustment of exact name agreements, in bits (as Splink's).

    An exact agreement on a value of frequency f is worth log2(m / f) instead of the
    average log2(m / u): the adjustment is log2(u / f), negative for common surnames.
    """
    out = np.zeros(len(comp.levels), dtype=np.float64)
    if model.tf_weight == 0 or len(out) == 0:
        return out
    for j, name in enumerate(TF_FIELDS):
        exact = comp.levels[:, COL[name]] == level(name, "exact")
        if not exact.any():
            continue
        freq = index.given_freq if name == "nombres" else index.surname_freq
        codes = comp.ref[exact, j]
        f = np.maximum(freq[np.minimum(codes, len(freq) - 1)].astype(np.float64), _TF_FLOOR)
        u_exact = model.u[name]["exact"]
        out[exact] += model.tf_weight * (math.log2(u_exact) - np.log2(f))
    return out


def describe(levels_row: npt.NDArray[np.int8]) -> dict[str, str]:
    """Level names of one pair, keyed by field, as stored with every link."""
    return {f: FIELDS[f][int(v)] for f, v in zip(FIELD_NAMES, levels_row, strict=True)}
