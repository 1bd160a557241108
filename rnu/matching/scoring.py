"""Field comparisons into discrete agreement levels, and Fellegi–Sunter weights over them.

Each comparison maps a record pair to one level per field; a fitted ``MatchModel`` gives each
level a weight log2(m/u), where m = P(level | same person) and u = P(level | different
people). A pair's weight is the sum over fields, so every link is explained by its levels.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from rnu.matching.index import I8, I32, I64, PghIndex, QueryBatch

F64 = npt.NDArray[np.float64]

# Levels in order of decreasing agreement; "missing" means one side has no value.
FIELDS: dict[str, tuple[str, ...]] = {
    "paterno": ("exact", "phonetic", "fuzzy_high", "fuzzy_low", "different"),
    "materno": ("exact", "phonetic", "fuzzy_high", "fuzzy_low", "different", "missing"),
    "swapped": ("straight", "swapped"),
    "nombres": (
        "exact",
        "reordered",
        "fuzzy_high",
        "subset",
        "phonetic",
        "fuzzy_low",
        "different",
    ),
    "birth_date": ("exact", "day_month_swap", "one_digit", "same_year", "different", "missing"),
    "sex": ("same", "different", "missing"),
    "ubigeo": ("district", "province", "department", "none", "missing"),
    "document": ("equal", "transposed", "one_digit", "different", "missing"),
}
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS)
NAME_FIELDS: tuple[str, ...] = ("paterno", "materno", "swapped", "nombres")
HIGH = 90  # rapidfuzz ratio for a one-letter slip in a typical Peruvian name
LOW = 75
_LEVEL = {f: {lv: i for i, lv in enumerate(levels)} for f, levels in FIELDS.items()}


def level(field_name: str, name: str) -> int:
    """Index of a named level, for readable vectorised comparisons."""
    return _LEVEL[field_name][name]


@dataclass
class MatchModel:
    """Fitted m and u probabilities per field and level, and the match prior among pairs."""

    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior: float
    method: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    def weight_table(self) -> F64:
        """log2(m/u) as a (field, level) matrix, padded with 0 for absent levels."""
        width = max(len(v) for v in FIELDS.values())
        table = np.zeros((len(FIELDS), width), dtype=np.float64)
        for i, (f, levels) in enumerate(FIELDS.items()):
            for j, lv in enumerate(levels):
                table[i, j] = math.log2(self.m[f][lv] / self.u[f][lv])
        return table

    def weight(self, field_name: str, level_name: str) -> float:
        """The weight of one level."""
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
        )


def _pair_scores(
    index: PghIndex,
    batch: QueryBatch,
    qcodes: I32,
    rcodes: I32,
    scorers: tuple[Any, ...],
) -> list[npt.NDArray[np.uint8]]:
    """rapidfuzz scores of name pairs, each distinct pair computed once in C, in parallel."""
    n = len(qcodes)
    if n == 0:
        return [np.empty(0, dtype=np.uint8) for _ in scorers]
    out = [np.full(n, 100, dtype=np.uint8) for _ in scorers]
    differ = np.flatnonzero(qcodes != rcodes)  # equal folded names need no scoring
    if len(differ) == 0:
        return out
    base = len(index.name_strings) + len(batch.extra_names) + 1
    combo = qcodes[differ].astype(np.int64) * base + rcodes[differ].astype(np.int64)
    uniq, inverse = np.unique(combo, return_inverse=True)
    uq = (uniq // base).astype(np.int32)
    ur = (uniq % base).astype(np.int32)
    left = index.name_text(uq, batch)
    right = index.name_strings[ur]
    for target, scorer in zip(out, scorers, strict=True):
        scores = process.cpdist(left, right, scorer=scorer, dtype=np.uint8, workers=-1)
        target[differ] = np.asarray(scores, dtype=np.uint8)[inverse.reshape(-1)]
    return out


def _surname_levels(
    equal: npt.NDArray[np.bool_],
    phon: npt.NDArray[np.bool_],
    score: npt.NDArray[np.uint8],
) -> I8:
    out = np.full(len(score), level("paterno", "different"), dtype=np.int8)
    out[score >= LOW] = level("paterno", "fuzzy_low")
    out[score >= HIGH] = level("paterno", "fuzzy_high")
    out[phon] = level("paterno", "phonetic")
    out[equal] = level("paterno", "exact")
    return out


def compare(index: PghIndex, batch: QueryBatch, q: I32, r: I32) -> I8:
    """Agreement levels of query rows ``q`` against index rows ``r``: (pairs, fields) int8."""
    qc, ic = batch.columns, index.columns
    n = len(q)
    out = np.zeros((n, len(FIELDS)), dtype=np.int8)
    col = {f: i for i, f in enumerate(FIELDS)}

    # surnames, straight and crossed
    qp, qm = qc.paterno[q], qc.materno[q]
    rp, rm = ic.paterno[r], ic.materno[r]
    skq = index.phonetic_codes(np.concatenate([qp, qm]), batch, "surname")
    skq_p, skq_m = skq[:n], skq[n:]
    skr_p = index.name_surname_key[rp]
    skr_m = index.name_surname_key[rm]
    (s_pp,) = _pair_scores(index, batch, qp, rp, (fuzz.ratio,))
    (s_mm,) = _pair_scores(index, batch, qm, rm, (fuzz.ratio,))
    both_m = (qm > 0) & (rm > 0)
    crossed = both_m & (qp != qm) & (rp != rm)
    s_pm = np.zeros(n, dtype=np.uint8)
    s_mp = np.zeros(n, dtype=np.uint8)
    if crossed.any():
        idx = np.flatnonzero(crossed)
        (s_pm[idx],) = _pair_scores(index, batch, qp[idx], rm[idx], (fuzz.ratio,))
        (s_mp[idx],) = _pair_scores(index, batch, qm[idx], rp[idx], (fuzz.ratio,))
    straight = s_pp.astype(np.int16) + s_mm
    cross = s_pm.astype(np.int16) + s_mp
    swapped = crossed & (np.minimum(s_pm, s_mp) >= HIGH) & (cross > straight)
    pat_eq = np.where(swapped, qp == rm, qp == rp)
    pat_ph = np.where(swapped, skq_p == skr_m, skq_p == skr_p) & (skq_p > 0)
    mat_eq = np.where(swapped, qm == rp, qm == rm)
    mat_ph = np.where(swapped, skq_m == skr_p, skq_m == skr_m) & (skq_m > 0)
    out[:, col["paterno"]] = _surname_levels(pat_eq, pat_ph, np.where(swapped, s_pm, s_pp))
    mat = _surname_levels(mat_eq, mat_ph, np.where(swapped, s_mp, s_mm))
    mat[~both_m] = level("materno", "missing")
    out[:, col["materno"]] = mat
    out[:, col["swapped"]] = swapped.astype(np.int8)

    # given names: token-set aware for compound names (MARIA vs MARIA ELENA)
    qn, rn = qc.nombres[q], ic.nombres[r]
    s_r, s_sort, s_set = _pair_scores(
        index, batch, qn, rn, (fuzz.ratio, fuzz.token_sort_ratio, fuzz.token_set_ratio)
    )
    gq = index.phonetic_codes(qn, batch, "given_full")
    gr = index.name_given_key_full[rn]
    nom = np.full(n, level("nombres", "different"), dtype=np.int8)
    nom[s_set >= LOW] = level("nombres", "fuzzy_low")
    nom[(gq == gr) & (gq > 0)] = level("nombres", "phonetic")
    nom[(s_set == 100) & (qn > 0) & (rn > 0)] = level("nombres", "subset")
    nom[(s_r >= HIGH) | (s_sort >= HIGH + 5)] = level("nombres", "fuzzy_high")
    nom[s_sort == 100] = level("nombres", "reordered")
    nom[qn == rn] = level("nombres", "exact")
    out[:, col["nombres"]] = nom

    out[:, col["birth_date"]] = _date_levels(qc.dob[q], ic.dob[r])

    qs, rs = qc.sex[q], ic.sex[r]
    sex = np.where(qs == rs, level("sex", "same"), level("sex", "different"))
    sex[(qs == 0) | (rs == 0)] = level("sex", "missing")
    out[:, col["sex"]] = sex

    qu, ru = qc.ubigeo[q], ic.ubigeo[r]
    ubi = np.full(n, level("ubigeo", "none"), dtype=np.int8)
    ubi[qu // 10000 == ru // 10000] = level("ubigeo", "department")
    ubi[qu // 100 == ru // 100] = level("ubigeo", "province")
    ubi[qu == ru] = level("ubigeo", "district")
    ubi[(qu < 0) | (ru < 0)] = level("ubigeo", "missing")
    out[:, col["ubigeo"]] = ubi

    out[:, col["document"]] = _doc_levels(qc.doc[q], ic.doc[r])
    return out


def _digits(values: I64, width: int) -> npt.NDArray[np.int64]:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def _typo_kind(a: I64, b: I64, width: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
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


def _date_levels(a: I32, b: I32) -> I8:
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    out = np.full(len(a), level("birth_date", "different"), dtype=np.int8)
    out[a64 // 10000 == b64 // 10000] = level("birth_date", "same_year")
    one, transposed = _typo_kind(a64, b64, 8)
    out[one | transposed] = level("birth_date", "one_digit")
    am, ad = (a64 // 100) % 100, a64 % 100
    bm, bd = (b64 // 100) % 100, b64 % 100
    swap = (a64 // 10000 == b64 // 10000) & (am == bd) & (ad == bm) & (a64 != b64)
    out[swap] = level("birth_date", "day_month_swap")
    out[a64 == b64] = level("birth_date", "exact")
    out[(a64 == 0) | (b64 == 0)] = level("birth_date", "missing")
    return out


def _doc_levels(a: I64, b: I64) -> I8:
    out = np.full(len(a), level("document", "different"), dtype=np.int8)
    present = (a >= 0) & (b >= 0)
    scale = np.int64(10**13)
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


def describe(levels_row: npt.NDArray[np.int8]) -> dict[str, str]:
    """Level names of one pair, keyed by field, as stored with every link."""
    return {f: FIELDS[f][int(v)] for f, v in zip(FIELD_NAMES, levels_row, strict=True)}
