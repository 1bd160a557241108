"""A compact, column-oriented index of the PGH for exact and blocked lookups.

One person costs a few ints per column (names are interned codes into one vocabulary), so
1M people fit in well under 200 MB and the national 30M in a few GB.

Blocking is a union of rules (each a sorted int64 key array + row order, probed with
``searchsorted``); a pair is a candidate when any rule puts both in one block. "pair" below is
the *unordered* pair (surname key of the paterno, key of the first given name), so a given
name and surname written in each other's columns still meet.

``dob_sex``          (birth date, sex). Catches every name defect: typos, swaps, missing
                     parts, married forms, and wrong or missing documents. Probed also with
                     day and month swapped, and with both sexes when sex is unknown.
``surnames_year``    (unordered pair of surname keys, birth year). Catches day/month errors;
                     blind to swapped surnames, and the phonetic key to HUAMAN/GUAMAN.
``pair_year``        (pair, birth year). A missing materno together with a day/month error.
``pair_mmdd``        (pair, month-day). A typo in the birth year.
``surnames_mmdd``    (unordered surname keys, month-day). A given-name slip and a wrong year.
``given_materno_year`` / ``given_materno_mmdd``  (first given key, materno key, year or
                     month-day). A paterno slip beyond its phonetic key and one date part off.
``names_department`` (unordered surname keys, first given key, department).
``pair_place``       (pair, place): place is the district ubigeo, else the free-text place.
``surnames_place``   (unordered surname keys, place): a row without a given name.
``paterno_place``    (paterno key, place): a row whose given name and date are both off.
``full_name``        (unordered surname keys, first given key). Every name right, the date
                     wrong in more than one part (or a placeholder).
``pair``             (pair) alone.
The dated rules are chosen so that a slip in any one name part (given, paterno, materno)
together with one wrong date part (year, or month-day) still shares a block: each
(name part, date part) is left out by at least one rule. The last six need no birth date:
a file without one (FISE), or a date wrong in more than one part, is still blocked.
Documents are a further rule of their own (equal number).

Blocks larger than ``max_block`` people are dropped at build time (``max_block // 5`` for
the rules without a birth date): they are placeholder values (1900-01-01, a blank name) or
names so common that they say nothing, and every person is still reachable through the
other keys. A query that has a birth date also skips date-less blocks of more than
``_DATELESS_PROBE`` people: its dated blocks already reach its true match unless its date
is wrong, and the long tail of common names would otherwise multiply the pairs to score.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from rnu.matching.records import PersonRecord
from rnu.normalize import names

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
Obj = npt.NDArray[np.object_]

# DNI and CUI share one number space (the CUI is the DNI number given at birth).
_DOC_TYPES: dict[str, int] = {"1": 1, "DNI": 1, "3": 1, "CUI": 1, "2": 2, "CE": 2}
_OTHER_DOC_TYPE = 3
_DOC_SCALE = 10**13
_SEXES: dict[str, int] = {"M": 1, "1": 1, "H": 1, "F": 2, "2": 2}
_KEY_BITS = 22  # phonetic key vocabulary must stay below 4M distinct keys
BLOCK_SCHEMES: tuple[str, ...] = (
    "dob_sex",
    "surnames_year",
    "pair_year",
    "pair_mmdd",
    "surnames_mmdd",
    "given_materno_year",
    "given_materno_mmdd",
    "names_department",
    "pair_place",
    "surnames_place",
    "paterno_place",
    "full_name",
    "pair",
)
# Rules a row is probed with only when the others found no link for it (``Matcher``): they
# exist for a slip in one name part with a wrong date part, rare among a load's rows, and at
# 1M people they would add ~40 % to the fuzzy path's CPU if every row paid for them.
SECOND_PASS_SCHEMES = frozenset(
    {"surnames_mmdd", "given_materno_year", "given_materno_mmdd", "full_name"}
)
DATELESS_SCHEMES = frozenset(
    {"names_department", "pair_place", "surnames_place", "paterno_place", "full_name", "pair"}
)
_DATELESS_PROBE = 20
_PLACE_OFFSET = 10_000_000  # free-text place codes sit above every district ubigeo
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_KEY_MASK = np.uint64((1 << 62) - 1)


def doc_code(doc_type: str | None, number: str | None) -> int:
    """Encode a document as one int64 (-1 when absent); leading zeros survive via the length."""
    if not number:
        return -1
    number = number.strip()
    if not number.isdigit() or len(number) > 12:
        return -1
    kind = _DOC_TYPES.get(doc_type.strip().upper(), _OTHER_DOC_TYPE) if doc_type else 1
    return (kind * 16 + len(number)) * _DOC_SCALE + int(number)


def _ubigeo_code(value: str | None) -> int:
    if not value:
        return -1
    value = value.strip()
    return int(value) if len(value) == 6 and value.isdigit() else -1


class Vocabulary:
    """Interns strings to dense int codes; code 0 is the empty string."""

    __slots__ = ("codes", "strings")

    def __init__(self) -> None:
        self.codes: dict[str, int] = {"": 0}
        self.strings: list[str] = [""]

    def add(self, text: str) -> int:
        """Return the code of ``text``, adding it when new."""
        code = self.codes.get(text)
        if code is None:
            code = len(self.strings)
            self.codes[text] = code
            self.strings.append(text)
        return code

    def __len__(self) -> int:
        return len(self.strings)


class Folder:
    """Memoised name folding: surnames repeat so much that folding each once pays."""

    __slots__ = ("_cache", "_fold", "limit")

    def __init__(self, limit: int = 2_000_000, fold: Callable[[str], str] = names.fold) -> None:
        self._cache: dict[str, str] = {}
        self._fold: Callable[[str], str] = fold
        self.limit = limit

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        folded = self._cache.get(text)
        if folded is None:
            if len(self._cache) >= self.limit:
                self._cache.clear()
            folded = self._fold(text)
            self._cache[text] = folded
        return folded


@dataclass(slots=True)
class Columns:
    """The comparable fields of a set of records, as parallel arrays."""

    paterno: I32
    materno: I32
    nombres: I32
    dob: I32
    sex: I8
    ubigeo: I32
    doc: I64
    place: I32  # vocabulary code of the folded free-text place; 0 = none


@dataclass(slots=True)
class Folders:
    """One memoised folding per kind of field: surnames drop married forms, given names
    expand abbreviations, places are folded plainly."""

    surname: Folder = field(default_factory=lambda: Folder(fold=names.birth_surname))
    given: Folder = field(default_factory=lambda: Folder(fold=names.given_form))
    place: Folder = field(default_factory=Folder)


@dataclass(slots=True)
class Block:
    """One blocking scheme: sorted keys and the row each key belongs to."""

    keys: I64
    rows: I32
    dropped: int = 0


@dataclass(slots=True)
class QueryBatch:
    """Records encoded against an index; names unknown to it get codes past its vocabulary."""

    columns: Columns
    extra_names: list[str]
    trusted: npt.NDArray[np.bool_]
    odd_docs: dict[int, str]
    keys: list[str]
    # per-batch tables of the extra names (phonetic keys, word bags...), computed once each:
    # a chunk's comparisons ask for them dozens of times
    derived: dict[str, npt.NDArray[Any]] = field(default_factory=dict)


@dataclass
class PghIndex:
    """Columns of the PGH plus its document and blocking indexes."""

    keys: list[str]
    columns: Columns
    vocab: Vocabulary
    name_strings: Obj
    name_surname_key: I32
    name_given_key_first: I32
    name_given_key_full: I32
    phonetic: Vocabulary
    doc_sorted: I64
    doc_rows: I32
    odd_docs: dict[str, list[int]]
    blocks: dict[str, Block]
    max_block: int
    # share of each name code among the PGH's surnames / given names (term frequencies)
    surname_freq: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros(1, dtype=np.float32)
    )
    given_freq: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros(1, dtype=np.float32)
    )
    name_initial: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros(1, dtype=np.uint8))
    folders: Folders = field(default_factory=Folders)
    raw_codes: dict[str, dict[str, int]] = field(default_factory=dict)
    ubigeo_codes: dict[str, int] = field(default_factory=dict)
    # PostgreSQL ids of each row's person and household (-1: none), filled by the loader
    # (rnu.ingest.matcher.build_index) so a load writes its rows without looking them up.
    person_ids: I64 = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    household_ids: I64 = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # per name code, computed on first use: a hash of its multiset of words (so that
    # "HUAMAN SOFIA | SILVA" and "SOFIA | HUAMAN SILVA" meet as bags) and whether it holds an
    # initial ("L. ALBERTO")
    _bags: npt.NDArray[np.uint64] | None = None
    _initials: npt.NDArray[np.bool_] | None = None
    _married: npt.NDArray[np.bool_] | None = None
    # (names, TOKEN_SLOTS) word ids of each name, sorted, with the ids of the words: one
    # tuple, assigned once built, so loads sharing the index in threads read a matching pair
    _words: tuple[I32, dict[str, int]] | None = None

    @classmethod
    def build(cls, records: Iterable[PersonRecord], *, max_block: int = 500) -> PghIndex:
        """Index PGH people; ``max_block`` caps block sizes (larger blocks are dropped)."""
        builder = IndexBuilder(max_block=max_block)
        builder.add(records)
        return builder.finish()

    def __len__(self) -> int:
        return len(self.keys)

    # -- encoding -------------------------------------------------------------------------

    def encode(self, records: Sequence[PersonRecord]) -> QueryBatch:
        """Fold and encode query records with this index's vocabulary."""
        codes = self.vocab.codes
        caches = self.raw_codes
        if sum(len(c) for c in caches.values()) > 2_000_000:
            caches.clear()
        base = len(self.vocab)
        extra: dict[str, int] = {}

        def coder(kind: str, folder: Folder) -> Callable[[str | None], int]:
            # raw text -> code without folding again: sector files repeat the same spellings
            cache = caches.setdefault(kind, {})
            get = cache.get

            def code_of(raw: str | None) -> int:
                if not raw:
                    return 0
                code = get(raw)
                if code is not None:
                    return code
                text = folder(raw)
                code = codes.get(text)
                if code is not None:
                    cache[raw] = code
                    return code
                code = extra.get(text)
                if code is None:
                    code = base + len(extra)
                    extra[text] = code
                return code

            return code_of

        surname = coder("surname", self.folders.surname)
        given = coder("given", self.folders.given)
        place_of = coder("place", self.folders.place)
        sexes = _SEXES
        doc_types = _DOC_TYPES
        ubigeos = self.ubigeo_codes
        odd: dict[int, str] = {}
        pat: list[int] = []
        mat: list[int] = []
        nom: list[int] = []
        dob: list[int] = []
        sex: list[int] = []
        ubi: list[int] = []
        docs: list[int] = []
        places: list[int] = []
        for i, rec in enumerate(records):
            pat.append(surname(rec.apellido_paterno))
            mat.append(surname(rec.apellido_materno))
            nom.append(given(rec.nombres))
            places.append(place_of(rec.place))
            bd = rec.birth_date
            dob.append(bd.year * 10000 + bd.month * 100 + bd.day if bd is not None else 0)
            sex.append(sexes.get(rec.sex, 0) if rec.sex else 0)
            u = rec.ubigeo
            if u:
                uc = ubigeos.get(u)
                if uc is None:
                    uc = ubigeos[u] = _ubigeo_code(u)
                ubi.append(uc)
            else:
                ubi.append(-1)
            number = rec.doc_number
            if number and number.isdigit() and len(number) <= 12:
                kind = doc_types.get(rec.doc_type, 0) if rec.doc_type else 1
                if kind:
                    docs.append((kind * 16 + len(number)) * _DOC_SCALE + int(number))
                else:
                    docs.append(doc_code(rec.doc_type, number))
            else:
                code = doc_code(rec.doc_type, number)
                docs.append(code)
                if code < 0 and number:
                    odd[i] = _odd_key(rec.doc_type, number)
        columns = Columns(
            paterno=np.array(pat, dtype=np.int32),
            materno=np.array(mat, dtype=np.int32),
            nombres=np.array(nom, dtype=np.int32),
            dob=np.array(dob, dtype=np.int32),
            sex=np.array(sex, dtype=np.int8),
            ubigeo=np.array(ubi, dtype=np.int32),
            doc=np.array(docs, dtype=np.int64),
            place=np.array(places, dtype=np.int32),
        )
        return QueryBatch(
            columns=columns,
            extra_names=list(extra),
            trusted=np.array([r.doc_trusted for r in records], dtype=np.bool_),
            odd_docs=odd,
            keys=[r.key for r in records],
        )

    def self_batch(self) -> QueryBatch:
        """The index's own people as a query batch (deduplication, random pairs for u)."""
        cols = self.columns
        if len(cols.place) != len(self.keys):
            cols = replace(cols, place=np.zeros(len(self.keys), dtype=np.int32))
        return QueryBatch(
            columns=cols,
            extra_names=[],
            trusted=np.ones(len(self.keys), dtype=np.bool_),
            odd_docs={},
            keys=self.keys,
        )

    def place_column(self) -> I32:
        """Place codes of the index rows (zeros when no indexed record had a place)."""
        if len(self.columns.place) == len(self.keys):
            return self.columns.place
        return np.zeros(len(self.keys), dtype=np.int32)

    def name_text(self, codes: I32, batch: QueryBatch) -> Obj:
        """Strings for name codes that may point past the vocabulary into a batch's extras."""
        base = len(self.name_strings)
        if not batch.extra_names or not (codes >= base).any():
            return self.name_strings[codes]
        out = np.empty(len(codes), dtype=object)
        known = codes < base
        out[known] = self.name_strings[codes[known]]
        texts = batch.derived.get("text")
        if texts is None:
            texts = batch.derived["text"] = np.array(batch.extra_names, dtype=object)
        out[~known] = texts[codes[~known] - base]
        return out

    def initials(self, codes: I32, batch: QueryBatch) -> npt.NDArray[np.uint8]:
        """First letter (as a byte, 0 for none) of name codes, extras of ``batch`` included."""
        base = len(self.name_initial)
        if not batch.extra_names or not (codes >= base).any():
            return self.name_initial[np.minimum(codes, base - 1)]
        extra = batch.derived.get("initial")
        if extra is None:
            extra = batch.derived["initial"] = np.array(
                [ord(s[0]) if s else 0 for s in batch.extra_names], dtype=np.uint8
            )
        out = np.empty(len(codes), dtype=np.uint8)
        known = codes < base
        out[known] = self.name_initial[codes[known]]
        out[~known] = extra[codes[~known] - base]
        return out

    def word_bags(self, codes: I32, batch: QueryBatch) -> npt.NDArray[np.uint64]:
        """Order-free hash of the words of each name code (0 for none); sums of several
        fields' bags compare whole names whatever column each word was written in."""
        if self._bags is None:
            self._bags = np.array([_bag(s) for s in self.name_strings], dtype=np.uint64)
        return _lookup(self._bags, codes, batch, _bag)

    def has_initials(self, codes: I32, batch: QueryBatch) -> npt.NDArray[np.bool_]:
        """Whether each name code holds a one-letter word (an initial: "L. ALBERTO")."""
        if self._initials is None:
            self._initials = np.array([_has_initial(s) for s in self.name_strings], dtype=np.bool_)
        return _lookup(self._initials, codes, batch, _has_initial)

    def name_tokens(self, codes: I32, batch: QueryBatch) -> I32:
        """Word ids of each name code, sorted, padded with -1 (see ``token_table``); a row
        of -2 for a name these slots cannot hold (more words, or a long name)."""
        words = self._words
        if words is None:
            ids: dict[str, int] = {}
            words = self._words = (token_table(list(self.name_strings), ids), ids)
        table, ids = words
        base = len(table)
        if not batch.extra_names or not (codes >= base).any():
            return table[np.minimum(codes, base - 1)]
        extra = batch.derived.get("tokens")
        if extra is None:  # words the index never saw get ids of this batch's own
            extra = batch.derived["tokens"] = token_table(batch.extra_names, dict(ids))
        out = np.empty((len(codes), TOKEN_SLOTS), dtype=np.int32)
        known = codes < base
        out[known] = table[codes[known]]
        out[~known] = extra[codes[~known] - base]
        return out

    def married_forms(self, codes: I32, batch: QueryBatch) -> npt.NDArray[np.bool_]:
        """Whether each name code is "DE" and one plain word ("DE MORALES"): a materno field
        a married woman fills with her husband's surname, or a rare birth surname."""
        if self._married is None:
            self._married = np.array([_married_form(s) for s in self.name_strings], dtype=np.bool_)
        return _lookup(self._married, codes, batch, _married_form)

    def phonetic_codes(self, codes: I32, batch: QueryBatch | None, which: str) -> I32:
        """Phonetic key codes of name codes; -1 for a key the index has never seen."""
        table = {
            "surname": self.name_surname_key,
            "given_first": self.name_given_key_first,
            "given_full": self.name_given_key_full,
        }[which]
        base = len(table)
        if batch is None or not batch.extra_names:
            return table[codes]
        extra_keys = batch.derived.get(f"phonetic.{which}")
        if extra_keys is None:
            func = names.given_name_key if which == "given_first" else names.surname_key
            pcodes = self.phonetic.codes
            extra_keys = batch.derived[f"phonetic.{which}"] = np.array(
                [pcodes.get(func(s), -1) if s else 0 for s in batch.extra_names], dtype=np.int32
            )
        out = np.empty(len(codes), dtype=np.int32)
        known = codes < base
        out[known] = table[codes[known]]
        out[~known] = extra_keys[codes[~known] - base]
        return out

    # -- blocking -------------------------------------------------------------------------

    def block_keys(
        self,
        scheme: str,
        cols: Columns,
        qrows: I32,
        *,
        probe: bool,
        batch: QueryBatch | None = None,
    ) -> tuple[I64, I32]:
        """Block keys of ``scheme`` for rows ``qrows`` of ``cols``; -1 where a part is missing.

        With ``probe`` the query-side variants are added (both sexes when unknown, day and
        month swapped); the second array tells which query row each key belongs to.
        """
        dob = cols.dob[qrows].astype(np.int64)
        year = dob // 10000
        mmdd = dob % 10000
        if scheme == "dob_sex":
            sex = cols.sex[qrows].astype(np.int64)
            keys = np.where(dob > 0, dob * 4 + sex, -1)
            if not probe:
                return keys, qrows
            parts = [(keys, qrows)]
            unknown = sex == 0
            for s in (1, 2):
                parts.append((np.where(unknown & (dob > 0), dob * 4 + s, -1), qrows))
            # known sex also probes the PGH's unknown-sex people
            parts.append((np.where(~unknown & (dob > 0), dob * 4, -1), qrows))
            month, day = mmdd // 100, mmdd % 100
            swapped = year * 10000 + day * 100 + month
            ok = (dob > 0) & (day <= 12) & (day != month)
            for k, _ in list(parts):
                parts.append((np.where(ok & (k >= 0), swapped * 4 + (k % 4), -1), qrows))
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        sk_p = self.phonetic_codes(cols.paterno[qrows], batch, "surname").astype(np.int64)
        year_part = np.clip(year - 1800, 0, 4095)
        if scheme == "paterno_place":
            area = _area(cols, qrows)
            return np.where((sk_p > 0) & (area > 0), _mix(sk_p, area, sk_p, 3), -1), qrows
        if scheme in ("given_materno_year", "given_materno_mmdd"):
            sk_m = self.phonetic_codes(cols.materno[qrows], batch, "surname").astype(np.int64)
            gk = self.phonetic_codes(cols.nombres[qrows], batch, "given_first").astype(np.int64)
            ok = (sk_m > 0) & (gk > 0) & (dob > 0)
            part = year_part if scheme == "given_materno_year" else mmdd
            return np.where(ok, _mix(gk, sk_m, part, 4), -1), qrows
        if scheme in (
            "surnames_year", "surnames_mmdd", "names_department", "surnames_place", "full_name"
        ):  # fmt: skip
            sk_m = self.phonetic_codes(cols.materno[qrows], batch, "surname").astype(np.int64)
            lo, hi = np.minimum(sk_p, sk_m), np.maximum(sk_p, sk_m)
            both = lo > 0
            if scheme == "surnames_year":
                keys = np.where(both & (dob > 0), ((lo << _KEY_BITS) | hi) << 12 | year_part, -1)
                return keys, qrows
            if scheme == "surnames_mmdd":
                keys = np.where(both & (dob > 0), ((lo << _KEY_BITS) | hi) << 12 | mmdd, -1)
                return keys, qrows
            if scheme == "surnames_place":
                area = _area(cols, qrows)
                return np.where(both & (area > 0), _mix(lo, hi, area, 1), -1), qrows
            gk = self.phonetic_codes(cols.nombres[qrows], batch, "given_first").astype(np.int64)
            if scheme == "full_name":
                return np.where(both & (gk > 0), _mix(lo, hi, gk, 6), -1), qrows
            dept = cols.ubigeo[qrows].astype(np.int64) // 10000
            ok = both & (gk > 0) & (dept > 0)
            return np.where(ok, _mix(lo, hi, gk, dept), -1), qrows
        gk = self.phonetic_codes(cols.nombres[qrows], batch, "given_first").astype(np.int64)
        # unordered (surname, given) pair: a given name written as the paterno still meets
        lo, hi = np.minimum(sk_p, gk), np.maximum(sk_p, gk)
        ok = (lo > 0) & (hi > 0)
        pair = (lo << _KEY_BITS) | hi
        if scheme == "pair_year":
            return np.where(ok & (dob > 0), pair << 12 | year_part, -1), qrows
        if scheme == "pair_mmdd":
            return np.where(ok & (dob > 0), pair << 12 | mmdd, -1), qrows
        if scheme == "pair_place":
            area = _area(cols, qrows)
            return np.where(ok & (area > 0), _mix(lo, hi, area, 2), -1), qrows
        if scheme == "pair":
            return np.where(ok, pair, -1), qrows
        raise ValueError(f"unknown blocking scheme {scheme!r}")

    def candidates(
        self, batch: QueryBatch, qrows: I32, schemes: Iterable[str] | None = None
    ) -> tuple[I32, I32]:
        """All (query row, index row) pairs sharing a block (of ``schemes``), once each."""
        qs: list[I32] = [np.empty(0, dtype=np.int32)]
        rs: list[I32] = [np.empty(0, dtype=np.int32)]
        dated = batch.columns.dob > 0
        wanted = set(self.blocks) if schemes is None else set(schemes)
        for scheme, block in self.blocks.items():
            if scheme not in wanted:
                continue
            keys, owners = self.block_keys(scheme, batch.columns, qrows, probe=True, batch=batch)
            valid = keys >= 0
            limit = _DATELESS_PROBE if scheme in DATELESS_SCHEMES else None
            q, r = _probe(block, keys[valid], owners[valid], dated if limit else None, limit)
            qs.append(q)
            rs.append(r)
        q_all = np.concatenate(qs).astype(np.int64)
        r_all = np.concatenate(rs).astype(np.int64)
        pair = unique_int64(q_all * (len(self.keys) + 1) + r_all)
        return (
            (pair // (len(self.keys) + 1)).astype(np.int32),
            (pair % (len(self.keys) + 1)).astype(np.int32),
        )

    def candidate_pairs(
        self,
        batch: QueryBatch,
        qrows: I32,
        *,
        document_slips: bool = False,
        schemes: Iterable[str] | None = None,
    ) -> tuple[I32, I32]:
        """Blocked candidates of ``qrows`` plus the people sharing their document, once each.

        ``document_slips`` adds the people whose document is one slip away (one digit, or two
        adjacent digits swapped): a record whose names and date are off as well is still
        compared. It costs ~10 probes a digit per query, so deduplication uses it and the
        load path (millions of rows, most resolved by an equal document) does not.
        """
        q_b, r_b = self.candidates(batch, qrows, schemes)
        q_d, r_d = self.lookup_documents(batch, qrows)
        if len(q_d) == 0 and not document_slips:  # rows without documents: nothing to add
            return q_b, r_b
        parts = [q_b.astype(np.int64), q_d.astype(np.int64)]
        rights = [r_b, r_d]
        if document_slips:
            q_s, r_s = self.lookup_document_slips(batch, qrows)
            parts.append(q_s.astype(np.int64))
            rights.append(r_s)
        n = len(self.keys) + 1
        code = unique_int64(np.concatenate([q * n + r for q, r in zip(parts, rights, strict=True)]))
        return (code // n).astype(np.int32), (code % n).astype(np.int32)

    def lookup_document_slips(self, batch: QueryBatch, qrows: I32) -> tuple[I32, I32]:
        """(query row, index row) pairs whose numeric documents differ by one slip."""
        codes = batch.columns.doc[qrows]
        has = codes >= 0
        codes, owners = codes[has], qrows[has]
        if len(codes) == 0:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32)
        head = codes // _DOC_SCALE  # kind * 16 + length
        number = codes % _DOC_SCALE
        length = head % 16
        variants: list[I64] = []
        keep: list[npt.NDArray[np.bool_]] = []
        for i in range(int(length.max())):  # i-th digit from the right
            inside = i < length
            unit = np.int64(10**i)
            digit = (number // unit) % 10
            for v in range(10):
                variants.append(number + (v - digit) * unit)
                keep.append(inside & (digit != v))
            nxt = (number // (unit * 10)) % 10  # swap digits i and i + 1
            swapped = number + (nxt - digit) * unit + (digit - nxt) * unit * 10
            variants.append(swapped.astype(np.int64))
            keep.append((i + 1 < length) & (nxt != digit))
        probes = np.stack(variants, axis=1) + (head * _DOC_SCALE)[:, None]
        mask = np.stack(keep, axis=1)
        keys = probes[mask]
        who = np.broadcast_to(owners[:, None], mask.shape)[mask]
        lo = np.searchsorted(self.doc_sorted, keys, side="left")
        hi = np.searchsorted(self.doc_sorted, keys, side="right")
        q, pos = _expand(lo.astype(np.int64), hi.astype(np.int64), who.astype(np.int32))
        return q, self.doc_rows[pos]

    def lookup_documents(self, batch: QueryBatch, qrows: I32) -> tuple[I32, I32]:
        """(query row, index row) pairs whose documents are equal."""
        codes = batch.columns.doc[qrows]
        lo = np.searchsorted(self.doc_sorted, codes, side="left")
        hi = np.searchsorted(self.doc_sorted, codes, side="right")
        hi = np.where(codes >= 0, hi, lo)
        q, pos = _expand(lo.astype(np.int64), hi.astype(np.int64), qrows)
        rows = self.doc_rows[pos]
        if self.odd_docs and batch.odd_docs:
            extra_q: list[int] = []
            extra_r: list[int] = []
            wanted = set(qrows.tolist())
            for qi, key in batch.odd_docs.items():
                if qi in wanted:
                    for r in self.odd_docs.get(key, ()):
                        extra_q.append(qi)
                        extra_r.append(r)
            if extra_q:
                q = np.concatenate([q, np.array(extra_q, dtype=np.int32)])
                rows = np.concatenate([rows, np.array(extra_r, dtype=np.int32)])
        return q, rows

    def memory_bytes(self) -> int:
        """Approximate bytes held by the numpy columns and block arrays (not the dicts)."""
        arrays: list[npt.NDArray[Any]] = [
            getattr(self.columns, f) for f in Columns.__dataclass_fields__
        ]
        total = sum(int(a.nbytes) for a in arrays)
        total += self.doc_sorted.nbytes + self.doc_rows.nbytes
        total += sum(b.keys.nbytes + b.rows.nbytes for b in self.blocks.values())
        return total


def unique_int64(values: I64) -> I64:
    """Sorted distinct values, by sort and compare.

    NumPy 2.4's ``np.unique`` takes a hash-table path for plain calls that, measured here on
    7M int64 pair codes, ran 48x slower than sorting (7.2 s against 0.15 s): it was 40 % of
    fuzzy matching's time (py-spy on bench/load_speed.py's fuzzy-only load).
    """
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    keep = np.empty(len(ordered), dtype=np.bool_)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _odd_key(doc_type: str | None, number: str) -> str:
    return f"{(doc_type or '').strip().upper()}:{number.strip().upper()}"


def _make_block(keys: I64, max_block: int) -> Block:
    rows = np.flatnonzero(keys >= 0).astype(np.int32)
    k = keys[rows]
    order = np.argsort(k, kind="stable")
    k, rows = k[order], rows[order]
    uniq, start, counts = np.unique(k, return_index=True, return_counts=True)
    giant = counts > max_block
    dropped = int(giant.sum())
    if dropped:
        keep = np.repeat(~giant, counts)
        k, rows = k[keep], rows[keep]
    return Block(keys=k, rows=rows, dropped=dropped)


def _expand(lo: I64, hi: I64, owners: I32) -> tuple[I32, I64]:
    """Turn [lo, hi) ranges into (owner, position) pairs without a Python loop."""
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
    q = np.repeat(owners, lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts - lo, lengths)
    return q.astype(np.int32), pos


def _probe(
    block: Block,
    keys: I64,
    owners: I32,
    dated: npt.NDArray[np.bool_] | None = None,
    limit: int | None = None,
) -> tuple[I32, I32]:
    lo = np.searchsorted(block.keys, keys, side="left").astype(np.int64)
    hi = np.searchsorted(block.keys, keys, side="right").astype(np.int64)
    if dated is not None and limit is not None:
        hi = np.where(dated[owners] & (hi - lo > limit), lo, hi)
    q, pos = _expand(lo, hi, owners)
    return q, block.rows[pos]


def _area(cols: Columns, qrows: I32) -> I64:
    """District ubigeo, else the free-text place code (offset), else 0."""
    ubi = cols.ubigeo[qrows].astype(np.int64)
    place = (
        cols.place[qrows].astype(np.int64) if len(cols.place) else np.zeros(len(qrows), np.int64)
    )
    return np.where(ubi > 0, ubi, np.where(place > 0, place + _PLACE_OFFSET, 0))


def _mix(a: I64, b: I64, c: I64, d: int | I64) -> I64:
    """A 62-bit hash of four non-negative ints (wrapping multiplication is the hash)."""
    with np.errstate(over="ignore"):
        mixed = (
            a.astype(np.uint64) * _MIX[0]
            ^ b.astype(np.uint64) * _MIX[1]
            ^ c.astype(np.uint64) * _MIX[2]
            ^ np.asarray(d).astype(np.uint64)
        ) & _KEY_MASK
    out: I64 = mixed.astype(np.int64)
    return out


class IndexBuilder:
    """Builds a ``PghIndex`` from records fed in pieces, so no list of people is ever held.

    Columns accumulate in typed ``array`` buffers (4 or 8 bytes a value, not a Python int
    object each): a source can stream a million people from a database cursor chunk by
    chunk, and memory is the index itself plus one chunk.
    """

    def __init__(self, *, max_block: int = 500) -> None:
        self.max_block = max_block
        self.folders = Folders()
        self.vocab = Vocabulary()
        self.keys: list[str] = []
        self.pat = array("i")
        self.mat = array("i")
        self.nom = array("i")
        self.dob = array("i")
        self.sex = array("b")
        self.ubi = array("i")
        self.doc = array("q")
        self.place = array("i")
        self.odd: dict[str, list[int]] = {}
        self._ubigeos: dict[str | None, int] = {}

    def add(self, records: Iterable[PersonRecord]) -> None:
        """Append people (in index row order)."""
        add, sexes = self.vocab.add, _SEXES
        surname, given, place_fold = self.folders.surname, self.folders.given, self.folders.place
        keys, pat, mat, nom = self.keys, self.pat, self.mat, self.nom
        dob, sex, ubi, doc, odd = self.dob, self.sex, self.ubi, self.doc, self.odd
        place = self.place
        ubigeos = self._ubigeos
        row = len(keys)
        for rec in records:
            keys.append(rec.key)
            pat.append(add(surname(rec.apellido_paterno)))
            mat.append(add(surname(rec.apellido_materno)))
            nom.append(add(given(rec.nombres)))
            place.append(add(place_fold(rec.place)))
            bd = rec.birth_date
            dob.append(bd.year * 10000 + bd.month * 100 + bd.day if bd is not None else 0)
            sex.append(sexes.get(rec.sex, 0) if rec.sex else 0)
            u = ubigeos.get(rec.ubigeo)
            if u is None:
                u = ubigeos[rec.ubigeo] = _ubigeo_code(rec.ubigeo)
            ubi.append(u)
            code = doc_code(rec.doc_type, rec.doc_number)
            doc.append(code)
            if code < 0 and rec.doc_number:
                odd.setdefault(_odd_key(rec.doc_type, rec.doc_number), []).append(row)
            row += 1

    def finish(self) -> PghIndex:
        """The index over everything added; the builder's buffers are released."""
        columns = Columns(
            paterno=np.frombuffer(self.pat, dtype=np.int32).copy(),
            materno=np.frombuffer(self.mat, dtype=np.int32).copy(),
            nombres=np.frombuffer(self.nom, dtype=np.int32).copy(),
            dob=np.frombuffer(self.dob, dtype=np.int32).copy(),
            sex=np.frombuffer(self.sex, dtype=np.int8).copy(),
            ubigeo=np.frombuffer(self.ubi, dtype=np.int32).copy(),
            doc=np.frombuffer(self.doc, dtype=np.int64).copy(),
            place=np.frombuffer(self.place, dtype=np.int32).copy(),
        )
        if not columns.place.any():  # no record had a place: keep the index compact
            columns.place = np.empty(0, dtype=np.int32)
        self.pat = self.mat = self.nom = self.dob = self.ubi = self.place = array("i")
        self.sex, self.doc = array("b"), array("q")
        vocab, keys = self.vocab, self.keys
        phonetic = Vocabulary()
        strings = vocab.strings
        sk = np.array(
            [phonetic.add(names.surname_key(s)) if s else 0 for s in strings], dtype=np.int32
        )
        gk_first = np.array(
            [phonetic.add(names.given_name_key(s)) if s else 0 for s in strings], dtype=np.int32
        )
        # every given name keyed, so "JHON EDISON" and "JOHN EDISSON" agree phonetically
        gk_full = np.array(
            [phonetic.add(names.surname_key(s)) if s else 0 for s in strings], dtype=np.int32
        )
        if len(phonetic) >= 1 << _KEY_BITS:
            raise ValueError("too many distinct phonetic keys for the block key layout")
        has_doc = columns.doc >= 0
        doc_rows_all = np.flatnonzero(has_doc).astype(np.int32)
        order = np.argsort(columns.doc[doc_rows_all], kind="stable")
        index = PghIndex(
            keys=keys,
            columns=columns,
            vocab=vocab,
            name_strings=np.array(strings, dtype=object),
            name_surname_key=sk,
            name_given_key_first=gk_first,
            name_given_key_full=gk_full,
            phonetic=phonetic,
            doc_sorted=columns.doc[doc_rows_all][order],
            doc_rows=doc_rows_all[order],
            odd_docs=self.odd,
            blocks={},
            max_block=self.max_block,
            name_initial=np.array([ord(s[0]) % 256 if s else 0 for s in strings], dtype=np.uint8),
            surname_freq=_frequencies(len(strings), columns.paterno, columns.materno),
            given_freq=_frequencies(len(strings), columns.nombres),
            folders=self.folders,
        )
        rows = np.arange(len(keys), dtype=np.int32)
        cols = index.self_batch().columns
        for scheme in BLOCK_SCHEMES:
            cap = self.max_block // 5 if scheme in DATELESS_SCHEMES else self.max_block
            index.blocks[scheme] = _make_block(
                index.block_keys(scheme, cols, rows, probe=False)[0], max(cap, 2)
            )
        return index


_WORD_HASHES: dict[str, int] = {}
# Words of a name held as ids for exact word-set tests; names of more words, or longer than
# TOKEN_TEXT letters, are marked -2 and compared by rapidfuzz itself (rare).
TOKEN_SLOTS = 4
TOKEN_TEXT = 48


def token_table(texts: Sequence[str], ids: dict[str, int]) -> I32:
    """(len(texts), TOKEN_SLOTS) ids of each text's whitespace-split words, sorted, padded
    with -1; ``ids`` gives known words their ids and takes new ones."""
    out = np.full((len(texts), TOKEN_SLOTS), -1, dtype=np.int32)
    for i, text in enumerate(texts):
        words = text.split() if text else []
        if len(words) > TOKEN_SLOTS or len(text) > TOKEN_TEXT or (text and not words):
            out[i] = -2
            continue
        row = sorted(ids.setdefault(w, len(ids)) for w in words)
        out[i, : len(row)] = row
    return out


def _words(text: str) -> list[str]:
    return [w for w in text.replace(".", " ").split() if w]


def _bag(text: str) -> int:
    """Sum (mod 2**64) of a stable 64-bit hash per word: equal for the same words in any
    order (a process-independent hash, as index and batches may be built apart)."""
    total = 0
    for word in _words(text):
        h = _WORD_HASHES.get(word)
        if h is None:
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            _WORD_HASHES[word] = h
        total = (total + h) & 0xFFFFFFFFFFFFFFFF
    return total


def _has_initial(text: str) -> bool:
    return any(len(w) == 1 for w in _words(text))


def _married_form(text: str) -> bool:
    words = text.split()
    return len(words) == 2 and words[0] == "DE" and words[1] not in names.PARTICLES


def initials_agree(a: str, b: str) -> bool:
    """Given names that agree word by word where one side wrote some words as initials:
    "L. ALBERTO" and "LUIS ALBERTO", "M ANTONIO" and "MARCO ANTONIO" (not "L. ALBERTO" and
    "LUIS ALFREDO", nor two full names that differ)."""
    wa, wb = _words(a), _words(b)
    if len(wa) != len(wb) or not wa:
        return False
    initial = False
    for x, y in zip(wa, wb, strict=True):
        if x == y:
            continue
        short, full = (x, y) if len(x) <= len(y) else (y, x)
        if len(short) != 1 or not full.startswith(short):
            return False
        initial = True
    return initial


_T = TypeVar("_T", bound=np.generic)


def _lookup(
    table: npt.NDArray[_T], codes: I32, batch: QueryBatch, func: Callable[[str], Any]
) -> npt.NDArray[_T]:
    """``table`` at name codes, computing ``func`` for codes past the vocabulary (a batch's
    extra names)."""
    base = len(table)
    if not batch.extra_names or not (codes >= base).any():
        out: npt.NDArray[_T] = table[np.minimum(codes, base - 1)]
        return out
    name = f"{func.__module__}.{func.__qualname__}"
    extra = batch.derived.get(name)
    if extra is None:
        extra = batch.derived[name] = np.array(
            [func(s) for s in batch.extra_names], dtype=table.dtype
        )
    result = np.empty(len(codes), dtype=table.dtype)
    known = codes < base
    result[known] = table[codes[known]]
    result[~known] = extra[codes[~known] - base]
    return result


def _frequencies(size: int, *columns: I32) -> npt.NDArray[np.float32]:
    """Share of each code among the non-empty values of ``columns`` (term frequencies)."""
    counts = np.zeros(size, dtype=np.float64)
    for col in columns:
        counts += np.bincount(col, minlength=size)[:size]
    counts[0] = 0
    total = counts.sum()
    return (counts / total if total else counts).astype(np.float32)
