"""The PostgreSQL ids of the PGH people a load links, read from the matching index.

The merge used to find each linked row's person by its PGH key and its household by the
person, two correlated index probes per row in PostgreSQL (bench/load_speed.py: most of a
22 s/M merge). The index already holds every PGH person in id order, with the ids read in
the same pass (`rnu.ingest.matcher.build_index`); this turns a result's person key into its
index row. Keys are found by their (cached) string hash in a sorted int64 array, 12 bytes a
person, instead of a dict of a million strings; a hash shared by two keys is resolved by
comparing the keys themselves, so a collision costs a comparison, never a wrong id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rnu.matching.index import PghIndex

I64 = npt.NDArray[np.int64]


class PersonIds:
    """person key -> (person id, household id) for one index; -1 where there is none."""

    def __init__(self, index: PghIndex) -> None:
        self.keys = index.keys
        self.person_ids = index.person_ids
        self.household_ids = index.household_ids
        hashes = np.fromiter((hash(k) for k in index.keys), dtype=np.int64, count=len(index.keys))
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.rows = order.astype(np.int32)

    @property
    def available(self) -> bool:
        """Whether the index carries ids (an index built from plain records has none)."""
        return len(self.person_ids) == len(self.keys) > 0

    def lookup(self, keys: Sequence[str | None]) -> tuple[I64, I64]:
        """The ids of each key's person and household; -1 for None or an unknown key."""
        n = len(keys)
        person, household = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        wanted = [i for i, k in enumerate(keys) if k is not None]
        if not wanted or not self.available:
            return person, household
        asked = [keys[i] for i in wanted]
        hashes = np.fromiter((hash(k) for k in asked), dtype=np.int64, count=len(asked))
        sorted_hashes, size = self.hashes, len(self.hashes)
        pos = np.minimum(np.searchsorted(sorted_hashes, hashes), size - 1)
        rows = self.rows[pos]
        index_keys = self.keys
        same_hash = (sorted_hashes[pos] == hashes).tolist()
        found = [
            ok and index_keys[row] == key
            for ok, row, key in zip(same_hash, rows.tolist(), asked, strict=True)
        ]
        for j in [j for j, ok in enumerate(found) if not ok and same_hash[j]]:
            # a hash two keys share: the next rows of the run are compared one by one
            p = int(pos[j])
            while p < size and sorted_hashes[p] == hashes[j]:
                if index_keys[int(self.rows[p])] == asked[j]:
                    rows[j], found[j] = self.rows[p], True
                    break
                p += 1
        hit = np.array(found, dtype=np.bool_)
        at = np.array(wanted, dtype=np.int64)[hit]
        person[at] = self.person_ids[rows[hit]]
        household[at] = self.household_ids[rows[hit]]
        return person, household


_cache: dict[int, tuple[PghIndex, PersonIds]] = {}


def person_ids(index: PghIndex) -> PersonIds:
    """The lookup for `index`, built once per index (a load reuses its worker's index)."""
    cached = _cache.get(id(index))
    if cached is None or cached[0] is not index:
        _cache.clear()  # one PGH at a time: a new index replaces the previous lookup
        cached = _cache[id(index)] = (index, PersonIds(index))
    return cached[1]
