"""Recall@10 / NDCG@10 / AUC arithmetic of the ranker evaluation, on hand-made score tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals.recommend_ranker import like_calibration, like_report, ranking_report
from tools.recommend.interactions import CandidateSets
from tools.recommend.ranker import RankerInput, auc, inputs_to_columns, rank_metrics
from tools.recommend.schemas import ItemKind


def test_rank_metrics_by_hand() -> None:
    # 1 true item (column 0) + 11 negatives; true item at rank 1, rank 3 and rank 12.
    negatives = np.arange(11, 0, -1, dtype=float)  # 11, 10, ..., 1
    top = np.concatenate([[100.0], negatives])
    third = np.concatenate([[9.5], negatives])
    last = np.concatenate([[0.0], negatives])
    result = rank_metrics(np.vstack([top, third, last]))
    assert result["n"] == 3
    assert result["recall@10"] == pytest.approx(2 / 3)
    assert result["ndcg@10"] == pytest.approx((1.0 + 1.0 / math.log2(4)) / 3)


def test_ties_count_in_expectation() -> None:
    # All 20 candidates tied: the true item is equally likely at any of positions 1..20.
    result = rank_metrics(np.zeros((1, 20)))
    assert result["recall@10"] == pytest.approx(0.5)
    assert result["ndcg@10"] == pytest.approx(sum(1 / math.log2(p + 1) for p in range(1, 11)) / 20)
    # One negative ahead, one tied: positions 2 or 3 with equal chance.
    tied = rank_metrics(np.array([[5.0, 6.0, 5.0, 1.0]]))
    assert tied["ndcg@10"] == pytest.approx(0.5 / math.log2(3) + 0.5 / math.log2(4))


def test_auc_by_hand() -> None:
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert auc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)
    assert math.isnan(auc(np.array([0.5]), np.array([1])))


def test_reports_split_cold_and_warm() -> None:
    sets = CandidateSets(
        events=np.arange(2),
        items=np.arange(6).reshape(2, 3),
        columns=inputs_to_columns([RankerInput(kind=ItemKind.DRESS)] * 6),
        liked=np.array([1, 0]),
        cold=np.array([True, False]),
    )
    report = ranking_report(np.array([3.0, 2.0, 1.0, 0.0, 2.0, 1.0]), sets)
    assert report["cold_start"]["recall@10"] == 1.0
    assert report["warm"]["ndcg@10"] == pytest.approx(1 / math.log2(4))
    assert report["all"]["n"] == 2
    likes = like_report(np.array([0.9, 0.2]), sets)
    assert likes["all"] == 1.0
    assert math.isnan(likes["cold_start"])
    assert report["no_history_at_event"]["n"] == 2


def test_like_calibration_table_and_ece_by_hand() -> None:
    probabilities = np.array([0.0, 0.05, 0.15, 0.15, 0.95, 0.95, 0.95, 0.95])
    liked = np.array([0, 0, 1, 0, 1, 1, 1, 0])
    table = like_calibration(probabilities, liked)
    rows = table["reliability"]
    assert len(rows) == 10
    assert [r["count"] for r in rows] == [2, 2, 0, 0, 0, 0, 0, 0, 0, 4]
    assert rows[0]["mean_predicted"] == pytest.approx(0.025)  # a probability of exactly 0 counts
    assert rows[0]["observed_like_rate"] == 0.0
    assert rows[1]["observed_like_rate"] == 0.5
    assert rows[2]["mean_predicted"] is None
    assert rows[9]["observed_like_rate"] == 0.75
    # ECE: (2 * 0.025 + 2 * 0.35 + 4 * 0.2) / 8
    assert table["ece"] == pytest.approx((2 * 0.025 + 2 * 0.35 + 4 * 0.2) / 8, abs=1e-4)
    assert table["n"] == 8
    perfect = like_calibration(np.full(10, 0.3), np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]))
    assert perfect["ece"] == pytest.approx(0.0)
    assert like_calibration(np.zeros(0), np.zeros(0))["ece"] is None


def test_the_recommend_table_prints_the_reliability_rows() -> None:
    from evals.recommend import table

    result = {
        "ranker": {
            "ranker": {"version": "v1", "source": "loaded"},
            "test_rentals": 2,
            "n_negatives": 99,
            "ranking": {},
            "like_auc": {"ranker_like_head": {"all": 0.7}},
            "like_calibration": like_calibration(np.array([0.15, 0.95]), np.array([0, 1])),
        },
        "compatibility": {},
    }
    text = table(result)
    assert "like head calibration (2 rated test rentals): ECE 0.100" in text
    assert "0.9–1.0" in text
