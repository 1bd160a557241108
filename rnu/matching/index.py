"""A compact, column-oriented index of the PGH for exact and blocked lookups.

One person costs a few ints per column (names are interned codes into one vocabulary), so
1M people fit in well under 200 MB and the national 30M in a few GB.

Blocking keys (each a sorted int64 array + row order, probed with ``searchsorted``):

``dob_sex``          (birth date, sex). Catches every name defect: typos, swapped surnames,
                     missing materno, compound names, and wrong or missing documents. Probed
                     also with day and month swapped, and with both sexes when sex is unknown.
``surnames_year``    (unordered pair of surname keys, birth year). Catches day/month typos and
                     swaps; the unordered pair makes it blind to swapped surnames, and the
                     phonetic key to HUAMAN/GUAMAN spellings.
``paterno_given_year`` (surname key of paterno, key of the first given name, birth year).
                     Catches a missing materno together with a day/month error.
``paterno_given_mmdd`` (surname key of paterno, first given name key, month-day). Catches a
                     typo in the birth year, the one error the other three all miss.
``names_department`` (unordered pair of surname keys, first given name key, department),
                     hashed into 62 bits. The only key without a birth date: FISE's file has
                     none, so its rows with a wrong or missing document need it.

Blocks larger than ``max_block`` people are dropped at build time: they are placeholder
values (1900-01-01, a blank name) that say nothing, and every person is still reachable
through the other keys. Sizes stay small because every key but the first has two name parts.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
    "paterno_given_year",
    "paterno_given_mmdd",
    "names_department",
)
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


def date_code(value: date | None) -> int:
    """YYYYMMDD as an int, 0 when unknown: digit-wise comparisons stay cheap."""
    if value is None:
        return 0
    return value.year * 10000 + value.month * 100 + value.day


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

    def __init__(self, limit: int = 2_000_000) -> None:
        self._cache: dict[str, str] = {}
        self._fold: Callable[[str], str] = names.fold
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
    folder: Folder = field(default_factory=Folder)
    raw_codes: dict[str, int] = field(default_factory=dict)
    ubigeo_codes: dict[str, int] = field(default_factory=dict)

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
        folder = self.folder
        codes = self.vocab.codes
        raw_codes = self.raw_codes
        if len(raw_codes) > 2_000_000:
            raw_codes.clear()
        base = len(self.vocab)
        extra: dict[str, int] = {}

        def code_of(raw: str | None) -> int:
            # raw text -> code without folding again: sector files repeat the same spellings
            if not raw:
                return 0
            text = folder(raw)
            code = codes.get(text)
            if code is not None:
                raw_codes[raw] = code
                return code
            code = extra.get(text)
            if code is None:
                code = base + len(extra)
                extra[text] = code
            return code

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
        get = raw_codes.get
        raw: str | None
        for i, rec in enumerate(records):
            raw = rec.apellido_paterno
            code = get(raw) if raw else 0
            pat.append(code_of(raw) if code is None else code)
            raw = rec.apellido_materno
            code = get(raw) if raw else 0
            mat.append(code_of(raw) if code is None else code)
            raw = rec.nombres
            code = get(raw) if raw else 0
            nom.append(code_of(raw) if code is None else code)
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
        )
        return QueryBatch(
            columns=columns,
            extra_names=list(extra),
            trusted=np.array([r.doc_trusted for r in records], dtype=np.bool_),
            odd_docs=odd,
            keys=[r.key for r in records],
        )

    def name_text(self, codes: I32, batch: QueryBatch) -> Obj:
        """Strings for name codes that may point past the vocabulary into a batch's extras."""
        base = len(self.name_strings)
        if not batch.extra_names or not (codes >= base).any():
            return self.name_strings[codes]
        out = np.empty(len(codes), dtype=object)
        known = codes < base
        out[known] = self.name_strings[codes[known]]
        out[~known] = np.array(batch.extra_names, dtype=object)[codes[~known] - base]
        return out

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
        func = names.given_name_key if which == "given_first" else names.surname_key
        pcodes = self.phonetic.codes
        extra_keys = np.array(
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
        if scheme == "surnames_year":
            sk_m = self.phonetic_codes(cols.materno[qrows], batch, "surname").astype(np.int64)
            lo, hi = np.minimum(sk_p, sk_m), np.maximum(sk_p, sk_m)
            keys = np.where((lo > 0) & (dob > 0), ((lo << _KEY_BITS) | hi) << 12 | year_part, -1)
            return keys, qrows
        gk = self.phonetic_codes(cols.nombres[qrows], batch, "given_first").astype(np.int64)
        if scheme == "names_department":
            sk_m = self.phonetic_codes(cols.materno[qrows], batch, "surname").astype(np.int64)
            lo, hi = np.minimum(sk_p, sk_m), np.maximum(sk_p, sk_m)
            dept = cols.ubigeo[qrows].astype(np.int64) // 10000
            ok = (lo > 0) & (gk > 0) & (dept > 0)
            with np.errstate(over="ignore"):  # wrapping multiplication is the hash
                mixed = (
                    lo.astype(np.uint64) * _MIX[0]
                    ^ hi.astype(np.uint64) * _MIX[1]
                    ^ gk.astype(np.uint64) * _MIX[2]
                    ^ dept.astype(np.uint64)
                ) & _KEY_MASK
            return np.where(ok, mixed.astype(np.int64), -1), qrows
        ok = (sk_p > 0) & (gk > 0) & (dob > 0)
        if scheme == "paterno_given_year":
            return np.where(ok, ((sk_p << _KEY_BITS) | gk) << 12 | year_part, -1), qrows
        if scheme == "paterno_given_mmdd":
            return np.where(ok, ((sk_p << _KEY_BITS) | gk) << 12 | mmdd, -1), qrows
        raise ValueError(f"unknown blocking scheme {scheme!r}")

    def candidates(self, batch: QueryBatch, qrows: I32) -> tuple[I32, I32]:
        """All (query row, index row) pairs sharing a block, without duplicates."""
        qs: list[I32] = []
        rs: list[I32] = []
        for scheme, block in self.blocks.items():
            keys, owners = self.block_keys(scheme, batch.columns, qrows, probe=True, batch=batch)
            valid = keys >= 0
            q, r = _probe(block, keys[valid], owners[valid])
            qs.append(q)
            rs.append(r)
        q_all = np.concatenate(qs).astype(np.int64)
        r_all = np.concatenate(rs).astype(np.int64)
        pair = unique_int64(q_all * (len(self.keys) + 1) + r_all)
        return (
            (pair // (len(self.keys) + 1)).astype(np.int32),
            (pair % (len(self.keys) + 1)).astype(np.int32),
        )

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


def _probe(block: Block, keys: I64, owners: I32) -> tuple[I32, I32]:
    lo = np.searchsorted(block.keys, keys, side="left").astype(np.int64)
    hi = np.searchsorted(block.keys, keys, side="right").astype(np.int64)
    q, pos = _expand(lo, hi, owners)
    return q, block.rows[pos]


class IndexBuilder:
    """Builds a ``PghIndex`` from records fed in pieces, so no list of people is ever held.

    Columns accumulate in typed ``array`` buffers (4 or 8 bytes a value, not a Python int
    object each): a source can stream a million people from a database cursor chunk by
    chunk, and memory is the index itself plus one chunk.
    """

    def __init__(self, *, max_block: int = 500) -> None:
        self.max_block = max_block
        self.folder = Folder()
        self.vocab = Vocabulary()
        self.keys: list[str] = []
        self.pat = array("i")
        self.mat = array("i")
        self.nom = array("i")
        self.dob = array("i")
        self.sex = array("b")
        self.ubi = array("i")
        self.doc = array("q")
        self.odd: dict[str, list[int]] = {}
        self._ubigeos: dict[str | None, int] = {}

    def add(self, records: Iterable[PersonRecord]) -> None:
        """Append people (in index row order)."""
        folder, add, sexes = self.folder, self.vocab.add, _SEXES
        keys, pat, mat, nom = self.keys, self.pat, self.mat, self.nom
        dob, sex, ubi, doc, odd = self.dob, self.sex, self.ubi, self.doc, self.odd
        ubigeos = self._ubigeos
        row = len(keys)
        for rec in records:
            keys.append(rec.key)
            pat.append(add(folder(rec.apellido_paterno)))
            mat.append(add(folder(rec.apellido_materno)))
            nom.append(add(folder(rec.nombres)))
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
        )
        self.pat = self.mat = self.nom = self.dob = self.ubi = array("i")
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
            folder=self.folder,
        )
        rows = np.arange(len(keys), dtype=np.int32)
        for scheme in BLOCK_SCHEMES:
            index.blocks[scheme] = _make_block(
                index.block_keys(scheme, columns, rows, probe=False)[0], self.max_block
            )
        return index
