"""Link two arbitrary lists of people, or deduplicate one: the logic behind `rnu match`.

A *plain mapping* (TOML) says which column holds what; nothing else about the list is
assumed. Rows keep whatever they have: a blank given name, an impossible date or a bad
document only empties that field (the engine treats it as missing) and is noted; a row is
rejected only when it has nothing to match on, with its reason, in the reject file.

This module imports no database or web code, so `rnu match` starts fast.

Mapping::

    [file]                       # optional: delimiter (","), encoding ("utf-8")
    [columns]                    # canonical field = the list's column name
    id = "rec_id"                # carried through to the pairs file (default: row number)
    nombres = "given_name"       # or full_name = "..." with [names] layout = "..."
    apellido_paterno = "surname"
    apellido_materno = "surname2"
    birth_date = "dob"
    doc_number = "dni"           # doc_type = "..." or [document] declared = "DNI"
    sex = "sexo"
    ubigeo = "ubigeo"            # INEI district code
    place = "postcode"           # free-text place (locality, postcode): a weak field
    [dates]
    formats = ["iso", "dmy"]     # tried in order (see rnu.normalize.dates)
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rnu.matching.calibrate import (
    FitError,
    default_model,
    estimate_u,
    fit,
    model_from_sessions,
    thresholds_from_model,
)
from rnu.matching.dedupe import dedupe
from rnu.matching.engine import Matcher, Outcome, Thresholds
from rnu.matching.index import BLOCK_SCHEMES, DATELESS_SCHEMES, I32, PghIndex, QueryBatch
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import FIELD_NAMES, FIELDS, MatchModel, describe
from rnu.normalize.dates import DateError, parse_date
from rnu.normalize.documents import parse_document
from rnu.normalize.names import split_full_name

COLUMN_FIELDS = frozenset(
    {
        "id", "doc_type", "doc_number", "full_name", "nombres", "apellido_paterno",
        "apellido_materno", "apellidos", "birth_date", "sex", "ubigeo", "place",
    }
)  # fmt: skip
_SEX = {"M": "M", "H": "M", "1": "M", "MALE": "M", "MASCULINO": "M",
        "F": "F", "2": "F", "FEMALE": "F", "FEMENINO": "F"}  # fmt: skip


class ListError(ValueError):
    """A list or mapping that cannot be used; the message is one line for the analyst."""


@dataclass(frozen=True)
class ListMapping:
    """Which column holds which field, and how dates, names and documents are written."""

    columns: dict[str, str]
    delimiter: str = ","
    encoding: str = "utf-8"
    date_formats: tuple[str, ...] = ("iso", "dmy")
    layout: str | None = None
    declared_doc: str | None = None

    @classmethod
    def load(cls, path: Path) -> ListMapping:
        if not path.is_file():
            raise ListError(f"mapping {path} is not a file")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ListError(f"mapping {path} is not valid TOML: {exc}") from None
        columns = data.get("columns")
        if not isinstance(columns, dict) or not columns:
            raise ListError(f"mapping {path} has no [columns] table")
        plain = {k: v for k, v in columns.items() if isinstance(v, str)}
        unknown = sorted(set(plain) - COLUMN_FIELDS)
        if unknown:
            raise ListError(
                f"mapping {path}: unknown fields {unknown}; use {sorted(COLUMN_FIELDS)}"
            )
        if not {"nombres", "apellido_paterno", "apellidos", "full_name", "doc_number"} & set(plain):
            raise ListError(f"mapping {path} maps no name and no document column")
        file = data.get("file", {})
        names = data.get("names", {})
        if "full_name" in plain and not names.get("layout"):
            raise ListError(f'mapping {path}: full_name needs [names] layout = "..."')
        return cls(
            columns=plain,
            delimiter=str(file.get("delimiter", ",")),
            encoding=str(file.get("encoding", "utf-8")),
            date_formats=tuple(data.get("dates", {}).get("formats", ("iso", "dmy"))),
            layout=names.get("layout"),
            declared_doc=data.get("document", {}).get("declared"),
        )


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that could not be matched at all, and why (one of a few reason codes)."""

    list_name: str
    row_number: int
    row_id: str
    reasons: tuple[str, ...]


@dataclass
class ListRead:
    records: list[PersonRecord]
    rejected: list[Rejected]
    notes: dict[str, int] = field(default_factory=dict)  # fields emptied, by reason


def read_list(path: Path, mapping: ListMapping, *, list_name: str = "left") -> ListRead:
    """The rows of a CSV list as person records; keys are the id column (or row numbers)."""
    if not path.is_file():
        raise ListError(f"{path} is not a file")
    out = ListRead([], [])
    cols = mapping.columns
    try:
        with path.open(encoding=mapping.encoding, newline="") as fh:
            reader = csv.DictReader(fh, delimiter=mapping.delimiter)
            if reader.fieldnames is None:
                raise ListError(f"{path} is empty: a list starts with a header line")
            header = set(reader.fieldnames)
            missing = sorted(v for v in cols.values() if v not in header)
            if missing:
                raise ListError(f"{path}: columns not in the header: {missing}")
            seen: set[str] = set()
            for number, raw in enumerate(reader, start=1):
                rec, reasons = _record(raw, number, mapping, out.notes)
                if rec.key in seen:
                    reasons = (*reasons, "duplicate_id")
                seen.add(rec.key)
                if reasons:
                    out.rejected.append(Rejected(list_name, number, rec.key, reasons))
                else:
                    out.records.append(rec)
    except UnicodeDecodeError:
        raise ListError(f"{path} is not {mapping.encoding}; set [file] encoding") from None
    except csv.Error as exc:
        raise ListError(f"{path} is not readable CSV: {exc}") from None
    return out


def _cell(raw: dict[str, Any], column: str | None) -> str | None:
    if column is None:
        return None
    value = raw.get(column)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _record(
    raw: dict[str, Any], number: int, mapping: ListMapping, notes: dict[str, int]
) -> tuple[PersonRecord, tuple[str, ...]]:
    cols = mapping.columns
    key = _cell(raw, cols.get("id")) or str(number)
    nombres = _cell(raw, cols.get("nombres"))
    paterno = _cell(raw, cols.get("apellido_paterno"))
    materno = _cell(raw, cols.get("apellido_materno"))
    full = _cell(raw, cols.get("full_name"))
    surnames = _cell(raw, cols.get("apellidos"))
    if full and mapping.layout:
        try:
            parts = split_full_name(full, mapping.layout)
            nombres, paterno, materno = (
                parts.nombres,
                parts.apellido_paterno,
                parts.apellido_materno,
            )
        except ValueError:
            notes["unsplittable_name"] = notes.get("unsplittable_name", 0) + 1
            nombres = full  # compared as given names: better than nothing
    elif surnames and not paterno:
        words = surnames.split(maxsplit=1)
        paterno, materno = words[0], (words[1] if len(words) > 1 else None)
    born = None
    text = _cell(raw, cols.get("birth_date"))
    if text:
        try:
            born = parse_date(text, mapping.date_formats)
        except DateError as exc:
            notes[exc.code] = notes.get(exc.code, 0) + 1
    doc_type = doc_number = None
    trusted = False
    value = _cell(raw, cols.get("doc_number"))
    if value:
        declared = _cell(raw, cols.get("doc_type")) or mapping.declared_doc
        if declared:
            doc = parse_document(value, declared)
            doc_type, doc_number, trusted = doc.doc_type, doc.number, doc.error is None
            if doc.error:
                notes[doc.error] = notes.get(doc.error, 0) + 1
        else:  # an identifier of the list's own: compared as a number, not validated
            digits = "".join(ch for ch in value if ch.isdigit())
            doc_type, doc_number, trusted = "ID", digits or None, bool(digits)
    sex = _SEX.get((_cell(raw, cols.get("sex")) or "").upper())
    rec = PersonRecord(
        key, doc_type, doc_number, trusted, nombres, paterno, materno, born, sex,
        _cell(raw, cols.get("ubigeo")), _cell(raw, cols.get("place")),
    )  # fmt: skip
    reasons: tuple[str, ...] = ()
    if not (nombres or paterno or materno or doc_number):
        reasons = ("no_name_and_no_document",)
    return rec, reasons


# -- running a match -------------------------------------------------------------------------


@dataclass(slots=True)
class PairResult:
    """One proposed pair: a left record and the right record it may be."""

    left_id: str
    right_id: str
    weight: float
    probability: float
    outcome: Outcome
    agreements: dict[str, str]
    cluster: str | None = None


@dataclass
class MatchRun:
    """What `rnu match` found and how: the fitted model, thresholds, blocking, the pairs."""

    mode: Literal["link", "dedupe"]
    model: MatchModel
    thresholds: Thresholds
    pairs: list[PairResult]
    candidate_pairs: int
    blocking_recall: float | None
    clusters: dict[str, str] = field(default_factory=dict)


def probability(weight: float, prior: float) -> float:
    """Posterior match probability of a weight, given the prior among candidate pairs."""
    logit = weight + math.log2(prior / (1 - prior))
    odds: float = 2.0 ** (-max(min(logit, 1000.0), -1000.0))
    return 1.0 / (1.0 + odds)


def _thresholds(
    model: MatchModel, fitted: Thresholds, threshold: float | None, review: float | None
) -> Thresholds:
    if threshold is None and review is None:
        return fitted
    for value in (threshold, review):
        if value is not None and not 0 < value < 1:
            raise ListError("--threshold and --review-threshold are probabilities in (0, 1)")
    upper = fitted.upper if threshold is None else _weight_at(threshold, model.prior)
    lower = fitted.lower if review is None else _weight_at(review, model.prior)
    if lower > upper:
        raise ListError("--review-threshold must not be above --threshold")
    notes = {**fitted.notes, "set_by": "command line"}
    return Thresholds(upper=upper, lower=lower, margin=fitted.margin, notes=notes)


def _weight_at(p: float, prior: float) -> float:
    return math.log2(p / (1 - p)) - math.log2(prior / (1 - prior))


def match_lists(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord] | None,
    *,
    threshold: float | None = None,
    review_threshold: float | None = None,
    all_pairs: bool = False,
    documents_identify: bool = False,
    apart: Mapping[str, int] | None = None,
) -> MatchRun:
    """Link ``left`` to ``right`` (one best right record per left one), or dedupe ``left``.

    The model is fitted on the lists themselves (u from random pairs, m by EM); thresholds
    are posterior probabilities (defaults: link at 0.995, review from 0.5).
    ``documents_identify`` (dedupe of a registry whose documents an identity authority
    issued, like the PGH): two different valid documents are two people. ``apart`` (dedupe
    only): record key -> group whose members are known to be different people (the PGH's
    households); their pairs go to review at most.
    """
    if not left or (right is not None and not right):
        raise ListError("nothing to match: a list has no usable rows")
    try:
        if right is None:
            return _dedupe(left, threshold, review_threshold, all_pairs, documents_identify, apart)
        return _link(left, right, threshold, review_threshold, all_pairs)
    except FitError as exc:
        raise ListError(str(exc)) from None


def _link(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    threshold: float | None,
    review: float | None,
    all_pairs: bool,
) -> MatchRun:
    index = PghIndex.build(right)
    step = max(len(left) // 20_000, 1)
    fallback, fallback_thresholds = default_model()
    try:
        model, fitted = fit(index, list(left[::step]), fallback=fallback)
    except FitError:  # lists too small to fit on: the shipped model, said so in the output
        model, fitted = fallback, fallback_thresholds
    thresholds = _thresholds(model, fitted, threshold, review)
    matcher = Matcher(index, model, thresholds, max_candidates=50 if all_pairs else 3)
    results = matcher.match_many(left)
    pairs: list[PairResult] = []
    linked_q: list[int] = []
    linked_r: list[int] = []
    position = {key: i for i, key in enumerate(index.keys)}
    for row, (rec, res) in enumerate(zip(left, results, strict=True)):
        if res.outcome == "linked" and res.person_key is not None:
            linked_q.append(row)
            linked_r.append(position[res.person_key])
        cands = res.candidates or (
            [] if res.person_key is None else [_as_candidate(res.person_key, res)]
        )
        for i, cand in enumerate(cands):
            if cand.weight < thresholds.lower and not all_pairs:
                break
            outcome: Outcome = (
                res.outcome
                if i == 0
                else ("review" if cand.weight >= thresholds.lower else "unmatched")
            )
            if cand.weight < thresholds.lower:
                outcome = "unmatched"
            pairs.append(
                PairResult(rec.key, cand.key, cand.weight, probability(cand.weight, model.prior),
                           outcome, cand.agreements)
            )  # fmt: skip
    batch = index.encode(left)
    recall = blocking_recall(
        index, batch, np.array(linked_q, dtype=np.int32), np.array(linked_r, dtype=np.int32)
    )
    candidates = int(model.notes.get("candidate_pairs", 0))
    return MatchRun("link", model, thresholds, pairs, candidates, recall)


def _as_candidate(key: str, res: Any) -> Any:
    from rnu.matching.engine import Candidate

    return Candidate(key, res.weight, res.agreements)


def _dedupe(
    records: Sequence[PersonRecord],
    threshold: float | None,
    review: float | None,
    all_pairs: bool,
    documents_identify: bool = False,
    apart: Mapping[str, int] | None = None,
) -> MatchRun:
    if len(records) < 2:
        raise ListError("deduplication needs at least two usable rows")
    index = PghIndex.build(records)
    batch = index.self_batch()
    u = estimate_u(index, batch, same_list=True)
    rows = np.arange(len(index), dtype=np.int32)
    step = max(len(index) // 50_000, 1)
    fallback, _ = default_model()
    groups = None
    if apart is not None:
        groups = np.array([apart.get(k, -1) for k in index.keys], dtype=np.int64)
    try:
        model = model_from_sessions(
            index, batch, rows[::step], u, same_list=True, fallback=fallback, apart=groups
        )
    except FitError:  # a list too small to fit on: the shipped model, said so in the output
        model = fallback
    thresholds = _thresholds(model, thresholds_from_model(model), threshold, review)
    found = dedupe(
        index,
        model,
        thresholds,
        keep_all=all_pairs,
        documents_identify=documents_identify,
        apart=groups,
    )
    keys = index.keys
    cluster_of = {keys[i]: keys[int(c)] for i, c in enumerate(found.clusters.tolist())}
    pairs = []
    for a, b, w, lv in zip(
        found.left.tolist(), found.right.tolist(), found.weights.tolist(), found.levels,
        strict=True,
    ):  # fmt: skip
        outcome: Outcome = (
            "linked"
            if w >= thresholds.upper
            else "review"
            if w >= thresholds.lower
            else "unmatched"
        )
        pairs.append(
            PairResult(keys[a], keys[b], w, probability(w, model.prior), outcome, describe(lv),
                       cluster_of[keys[a]] if outcome == "linked" else None)
        )  # fmt: skip
    linked = found.weights >= thresholds.upper
    recall = blocking_recall(index, batch, found.left[linked], found.right[linked])
    return MatchRun("dedupe", model, thresholds, pairs, found.candidate_pairs, recall, cluster_of)


def blocking_recall(index: PghIndex, batch: QueryBatch, q: I32, r: I32) -> float | None:
    """Estimated share of true pairs that blocking reaches, without labels.

    Capture–recapture (Lincoln–Petersen) over the linked pairs: rules with a birth date and
    rules without one (plus equal documents) are two nearly independent ways of finding a
    pair; if A and B find n_A and n_B links and n_AB both, the links are about
    n_A·n_B / n_AB, and blocking found n_A + n_B − n_AB of them.
    """
    if len(q) == 0:
        return None
    dated = [s for s in BLOCK_SCHEMES if s not in DATELESS_SCHEMES]
    undated = [s for s in BLOCK_SCHEMES if s in DATELESS_SCHEMES]
    n = len(index) + 1
    wanted = q.astype(np.int64) * n + r
    rows = np.unique(q).astype(np.int32)
    qa, ra = index.candidates(batch, rows, dated)
    qb, rb = index.candidates(batch, rows, undated)
    qd, rd = index.lookup_documents(batch, rows)
    in_a = np.isin(wanted, qa.astype(np.int64) * n + ra)
    in_b = np.isin(wanted, np.concatenate([qb.astype(np.int64) * n + rb,
                                           qd.astype(np.int64) * n + rd]))  # fmt: skip
    n_a, n_b, n_ab = int(in_a.sum()), int(in_b.sum()), int((in_a & in_b).sum())
    if n_ab == 0:
        return None
    estimated = n_a * n_b / n_ab
    return float(min((n_a + n_b - n_ab) / estimated, 1.0))


# -- output ----------------------------------------------------------------------------------


def write_pairs(run: MatchRun, out: Path) -> int:
    """CSV of the pairs: ids, weight, probability, outcome, cluster, one column per field."""
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["left_id", "right_id", "weight", "probability", "outcome", "cluster", *FIELD_NAMES]
        )
        for p in run.pairs:
            writer.writerow(
                [p.left_id, p.right_id, f"{p.weight:.2f}", f"{p.probability:.4f}", p.outcome,
                 p.cluster or "", *(p.agreements.get(f, "") for f in FIELD_NAMES)]
            )  # fmt: skip
    return len(run.pairs)


def write_clusters(run: MatchRun, out: Path) -> None:
    """id,cluster for every row of a deduplicated list (a row alone is its own cluster)."""
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "cluster"])
        for key, cluster in run.clusters.items():
            writer.writerow([key, cluster])


def write_rejects(rejected: Sequence[Rejected], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["list", "row_number", "id", "reasons"])
        for r in rejected:
            writer.writerow([r.list_name, r.row_number, r.row_id, ";".join(r.reasons)])


def describe_model(run: MatchRun) -> Iterator[str]:
    """The fitted model as text lines: m, u and weight per level, thresholds, blocking."""
    model, th = run.model, run.thresholds
    yield f"model: {model.method}"
    yield (
        f"prior (share of candidate pairs that match): {model.prior:.4f}; "
        f"{run.candidate_pairs:,} candidate pairs"
    )
    for f in FIELD_NAMES:
        if f == "swapped":
            continue
        cells = []
        for lv in FIELDS[f]:
            if lv == "missing":
                continue
            cells.append(
                f"{lv} m={model.m[f][lv]:.3f} u={model.u[f][lv]:.4f} w={model.weight(f, lv):+.1f}"
            )
        yield f"  {f}: " + "; ".join(cells)
    yield (
        f"thresholds: link at weight >= {th.upper:.2f} (p >= "
        f"{probability(th.upper, model.prior):.3f}), review from {th.lower:.2f} (p >= "
        f"{probability(th.lower, model.prior):.3f}), margin {th.margin:.2f}"
    )
    recall = "n/a (no links)" if run.blocking_recall is None else f"{run.blocking_recall:.4f}"
    yield f"blocking recall (capture-recapture estimate over the links): {recall}"


def link_lists(
    left: Sequence[PersonRecord], right: Sequence[PersonRecord] | None
) -> Iterator[PairResult]:
    """Linked and review pairs between ``left`` and ``right``, or within ``left`` (dedupe).

    Raises ``ListError`` when the lists cannot support a fitted model.
    """
    yield from match_lists(list(left), None if right is None else list(right)).pairs
