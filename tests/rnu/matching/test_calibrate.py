"""Model fitting and threshold calibration on the synthetic PGH."""

from __future__ import annotations

import math

from rnu.matching.calibrate import thresholds_from_model
from rnu.matching.engine import Thresholds
from rnu.matching.scoring import FIELDS, MatchModel

AGREEMENT_LEVELS = [
    ("paterno", "exact"),
    ("materno", "exact"),
    ("nombres", "exact"),
    ("birth_date", "exact"),
    ("sex", "same"),
    ("ubigeo", "district"),
    ("document", "equal"),
]
DISAGREEMENT_LEVELS = [
    ("paterno", "different"),
    ("nombres", "different"),
    ("birth_date", "different"),
    ("sex", "different"),
]


class TestFit:
    def test_m_exceeds_u_for_agreement(self, fitted: tuple[MatchModel, Thresholds]) -> None:
        model, _ = fitted
        for f, lv in AGREEMENT_LEVELS:
            assert model.m[f][lv] > model.u[f][lv], (f, lv)
        for f, lv in DISAGREEMENT_LEVELS:
            assert model.m[f][lv] < model.u[f][lv], (f, lv)

    def test_probabilities_sum_to_one(self, fitted: tuple[MatchModel, Thresholds]) -> None:
        model, _ = fitted
        for f, levels in FIELDS.items():
            assert set(model.u[f]) == set(levels) - {"missing"}
            assert math.isclose(sum(model.u[f].values()), 1.0)
            assert math.isclose(sum(model.m[f].values()), 1.0)

    def test_missing_says_nothing(self, fitted: tuple[MatchModel, Thresholds]) -> None:
        model, _ = fitted
        for f in ("materno", "birth_date", "sex", "ubigeo", "document"):
            assert model.weight(f, "missing") == 0.0

    def test_weights_fall_with_agreement(self, fitted: tuple[MatchModel, Thresholds]) -> None:
        model, _ = fitted
        for f in ("paterno", "nombres", "birth_date", "ubigeo", "document"):
            weights = [model.weight(f, lv) for lv in FIELDS[f] if lv != "missing"]
            assert all(a >= b - 1e-9 for a, b in zip(weights, weights[1:], strict=False)), f

    def test_thresholds_ordered(self, fitted: tuple[MatchModel, Thresholds]) -> None:
        _, th = fitted
        assert 0 <= th.lower < th.upper
        assert th.margin > 0
        assert th.notes["method"] == "posterior"

    def test_model_round_trips_through_json(self, fitted: tuple[MatchModel, Thresholds]) -> None:
        model, _ = fitted
        again = MatchModel.from_json(model.to_json())
        assert again == model
        assert (again.weight_table() == model.weight_table()).all()


class TestThresholdsFromModel:
    def test_posterior_cut_offs(self, fitted: tuple[MatchModel, Thresholds]) -> None:
        model, _ = fitted
        one_in_a_hundred = MatchModel(m=model.m, u=model.u, prior=0.01)
        th = thresholds_from_model(one_in_a_hundred, p_link=0.99, p_pick=0.99)
        assert math.isclose(th.lower, math.log2(99))
        assert math.isclose(th.upper, 2 * math.log2(99))
        assert math.isclose(th.margin, math.log2(99))
