"""FITB accuracy, compatibility AUC and coverage on a tiny fixture in the real Polyvore file formats."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from evals.polyvore import evaluate_polyvore
from tools.recommend.compat import SLOTS, CompatModel

pytestmark = pytest.mark.unit

VECTORS = {
    "white shirt": [1.0, 0.0],
    "blue jeans": [0.6, 0.8],
    "white sneakers": [0.8, 0.6],
    "black boots": [-1.0, 0.0],
    "pink hat": [0.0, -1.0],
    "green bag": [-0.6, 0.8],
}


def _embed(texts: Sequence[str]) -> np.ndarray:
    return np.asarray([VECTORS[t] for t in texts], np.float32).reshape(-1, 2)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "polyvore_maryland"
    root.mkdir()
    titles = {
        "100": {
            "upper": {"index": 1, "name": "white shirt"},
            "bottom": {"index": 2, "name": "blue jeans"},
            "shoe": {"index": 3, "name": "white sneakers"},
        },
        "200": {"shoe": {"index": 1, "name": "black boots"}, "accessory": {"index": 2, "name": "pink hat"}},
        "300": {"bag": {"index": 1, "name": "green bag"}, "accessory": {"index": 3, "name": "pink hat"}},
    }
    fitb = [
        # cosine picks 100_3 (right): strict and titled
        {
            "question": ["100_1", "100_2"],
            "answers": ["100_3", "200_1", "200_2", "300_1"],
            "blank_position": 3,
        },
        # cosine picks 200_2 (right): strict and titled
        {"question": ["200_1"], "answers": ["100_1", "200_2", "100_2", "100_3"], "blank_position": 2},
        # 300_2 has no title: titled protocol only, where cosine picks 100_2 (wrong)
        {
            "question": ["300_2", "300_1"],
            "answers": ["300_3", "100_1", "100_2", "100_3"],
            "blank_position": 3,
        },
        # an untitled candidate: never scored
        {"question": ["100_1"], "answers": ["100_9", "200_1", "200_2", "300_1"], "blank_position": 2},
    ]
    compat = [
        "1 100_1 100_2 100_3",  # mean cosine 0.787
        "0 100_1 200_1 300_1",  # -0.333
        "1 200_1 200_2",  # 0
        "0 100_1 100_3",  # 0.8
        "0 100_2 300_2 200_2",  # untitled 300_2: titled protocol only, -0.8
    ]
    with gzip.open(root / "mcn_test_no_dup_with_category_3more_name.json.gz", "wt") as handle:
        json.dump(titles, handle)
    with gzip.open(root / "fill_in_blank_test.json.gz", "wt") as handle:
        json.dump(fitb, handle)
    with gzip.open(root / "fashion_compatibility_prediction.txt.gz", "wt") as handle:
        handle.write("\n".join(compat) + "\n")
    return tmp_path


def _cosine_like_model() -> CompatModel:
    """Uniform slot probabilities and logit = 4 * a.b: a model that ranks like cosine similarity."""
    n_features = 2 + 2 + len(SLOTS) * (len(SLOTS) + 1) // 2
    w1 = np.zeros((n_features, 1), np.float32)
    w1[:2] = 4.0
    empty = np.zeros(0, np.float32)
    return CompatModel(
        "compat-test",
        np.zeros((len(SLOTS), 2), np.float32),
        np.zeros(len(SLOTS), np.float32),
        w1,
        np.zeros(1, np.float32),
        empty,
        empty,
    )


def test_baselines_coverage_and_arithmetic(data_dir: Path) -> None:
    result = evaluate_polyvore(None, data_dir, embed=_embed)
    strict, titled = result["strict"], result["titled_items"]
    assert strict["fitb_coverage"] == "2/4"
    assert titled["fitb_coverage"] == "3/4"
    assert strict["compat_coverage"] == "4/5"
    assert titled["compat_coverage"] == "5/5"
    assert strict["random"] == {"fitb_accuracy": 0.25, "compat_auc": 0.5}
    assert strict["mean_cosine"]["fitb_accuracy"] == pytest.approx(1.0)
    assert titled["mean_cosine"]["fitb_accuracy"] == pytest.approx(2 / 3)
    assert strict["mean_cosine"]["compat_auc"] == pytest.approx(0.5)
    assert titled["mean_cosine"]["compat_auc"] == pytest.approx(4 / 6)
    assert "model" not in strict


def test_model_is_scored_on_the_same_questions(data_dir: Path) -> None:
    result = evaluate_polyvore(_cosine_like_model(), data_dir, embed=_embed)
    assert result["model"] == "compat-test"
    assert result["strict"]["model"]["fitb_accuracy"] == pytest.approx(1.0)
    assert result["strict"]["model"]["compat_auc"] == pytest.approx(0.5)
    assert result["titled_items"]["model"]["compat_auc"] == pytest.approx(4 / 6)
