"""A load reads its linked people's ids from the matching index, collisions included."""

from __future__ import annotations

from datetime import date

import numpy as np

from rnu.ingest.person_ids import PersonIds
from rnu.matching.index import PghIndex
from rnu.matching.records import PersonRecord


class SameHash(str):
    """A key whose hash collides with every other SameHash (str hashes rarely do)."""

    def __hash__(self) -> int:
        return 7


def _index(keys: list[str]) -> PghIndex:
    index = PghIndex.build(
        PersonRecord(k, "DNI", f"{10000000 + i}", True, "ANA", "QUISPE", "MAMANI",
                     date(1990, 1, 1 + i), "F", "150101")
        for i, k in enumerate(keys)
    )  # fmt: skip
    index.person_ids = np.array([100 + i for i in range(len(keys))], dtype=np.int64)
    index.household_ids = np.array([-1 if i == 1 else 900 + i for i in range(len(keys))])
    return index


def test_keys_give_their_person_and_household_ids() -> None:
    ids = PersonIds(_index(["H1-1", "H1-2", "H2-1"]))
    person, household = ids.lookup(["H2-1", None, "NOPE", "H1-2", "H1-1"])
    assert person.tolist() == [102, -1, -1, 101, 100]
    assert household.tolist() == [902, -1, -1, -1, 900]


def test_a_shared_hash_is_resolved_by_comparing_the_keys() -> None:
    keys = [SameHash("A-1"), SameHash("B-1"), SameHash("C-1")]
    ids = PersonIds(_index(list(keys)))
    person, _ = ids.lookup([SameHash("C-1"), SameHash("A-1"), SameHash("Z-9"), SameHash("B-1")])
    assert person.tolist() == [102, 100, -1, 101]


def test_an_index_without_ids_gives_none() -> None:
    index = _index(["H1-1"])
    index.person_ids = np.empty(0, dtype=np.int64)
    assert PersonIds(index).lookup(["H1-1"])[0].tolist() == [-1]
