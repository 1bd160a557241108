"""Linking two lists and deduplicating one with the engine's scoring."""

from __future__ import annotations

from dataclasses import replace

from rnu.matching.engine import Thresholds
from rnu.matching.lists import link_lists
from rnu.matching.records import PersonRecord
from rnu.matching.scoring import MatchModel
from tests.rnu.matching.conftest import BY_KEY


class TestLinkLists:
    def test_links_right_people(
        self, pgh: list[PersonRecord], fitted: tuple[MatchModel, Thresholds]
    ) -> None:
        model, th = fitted
        left = [
            replace(BY_KEY["P-DATE"], key="L1", doc_number=None, doc_type=None),
            replace(BY_KEY["P-CRUZ"], key="L2"),
        ]
        pairs = list(link_lists(left, pgh, model=model, thresholds=th))
        linked = {(p.left_id, p.right_id) for p in pairs if p.outcome == "linked"}
        assert linked == {("L1", "P-DATE"), ("L2", "P-CRUZ")}

    def test_dedupe_reports_each_pair_once(
        self, pgh: list[PersonRecord], fitted: tuple[MatchModel, Thresholds]
    ) -> None:
        model, th = fitted
        people = pgh[:300]
        copy = replace(people[10], key="DUP", doc_type=None, doc_number=None)
        pairs = list(link_lists([*people, copy], None, model=model, thresholds=th))
        linked = [(p.left_id, p.right_id) for p in pairs if p.outcome == "linked"]
        assert linked == [(people[10].key, "DUP")]
        assert all(p.left_id != p.right_id for p in pairs)

    def test_fits_its_own_model_when_none_given(self, pgh: list[PersonRecord]) -> None:
        left = [replace(p, key=f"L{i}") for i, p in enumerate(pgh[:1500])]
        pairs = list(link_lists(left, pgh[:3000]))
        linked = {p.left_id: p.right_id for p in pairs if p.outcome == "linked"}
        assert linked["L7"] == pgh[7].key
        assert len(linked) == 1500
