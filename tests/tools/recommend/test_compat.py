"""The pairwise compatibility model on synthetic outfits whose compatibility rule is planted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tools.recommend import compat
from tools.recommend.compat import (
    CompatModel,
    Config,
    ModelArtifactError,
    TrainingSet,
    fit,
    load_compat_model,
)

pytestmark = pytest.mark.unit

DIM = 16
STYLES = 4


def _items(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectors = style + slot + noise; compatible means same style (slots 0 = top, 1 = bottom)."""
    style_centres = np.random.default_rng(7).normal(size=(STYLES, DIM))
    slot_centres = np.random.default_rng(8).normal(size=(2, DIM))
    style = rng.integers(0, STYLES, n)
    slot = rng.integers(0, 2, n)
    v = 1.5 * style_centres[style] + slot_centres[slot] + 0.6 * rng.normal(size=(n, DIM))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.astype(np.float32), slot.astype(np.int64), style


def _training_set(rng: np.random.Generator, outfits: int = 240) -> TrainingSet:
    vectors, slots, style = _items(rng, 1200)
    rows = []
    for _ in range(outfits):
        s = rng.integers(0, STYLES)
        tops = np.flatnonzero((style == s) & (slots == 0))
        bottoms = np.flatnonzero((style == s) & (slots == 1))
        rows.append(
            np.concatenate([rng.choice(tops, 2, replace=False), rng.choice(bottoms, 1)]).astype(np.int64)
        )
    return TrainingSet(vectors, slots, rows, [f"set{i}" for i in range(outfits)])


@pytest.fixture(scope="module")
def trained() -> tuple[CompatModel, dict[str, Any]]:
    data = _training_set(np.random.default_rng(1))
    return fit(data, configs=(Config(0, 1.0), Config(16, 1e-3)), seed=3)


def test_learns_the_planted_rule_on_new_items(trained: tuple[CompatModel, dict[str, Any]]) -> None:
    model, report = trained
    vectors, slots, style = _items(np.random.default_rng(99), 300)
    tops, bottoms = vectors[slots == 0], vectors[slots == 1]
    scores = model.pair_scores(tops, bottoms)
    same = style[slots == 0][:, None] == style[slots == 1][None, :]
    assert scores.shape == (tops.shape[0], bottoms.shape[0])
    assert compat.auc(scores.ravel().tolist(), same.ravel().astype(int).tolist()) > 0.85
    assert scores[same].mean() > scores[~same].mean() + 0.2
    assert report["chosen"] in {"logreg(C=1)", "mlp(16, alpha=0.001)"}
    assert len(report["selection"]) == 2
    outfit = vectors[np.flatnonzero(style == 0)[:3]]
    mixed = vectors[[np.flatnonzero(style == k)[0] for k in range(3)]]
    assert model.outfit_score(outfit) > model.outfit_score(mixed)
    assert model.outfit_score(outfit[:1]) == 0.5


def test_save_load_round_trip(tmp_path: Path, trained: tuple[CompatModel, dict[str, Any]]) -> None:
    model, _ = trained
    model.version = compat.new_version("test")
    folder = model.save(tmp_path)
    loaded = load_compat_model(tmp_path)
    assert loaded is not None
    assert loaded.version == model.version
    e = np.random.default_rng(5).normal(size=(4, DIM)).astype(np.float32)
    np.testing.assert_allclose(loaded.pair_scores(e, e), model.pair_scores(e, e), rtol=1e-6)
    assert load_compat_model(folder) is not None  # a version folder itself
    assert load_compat_model(tmp_path / "empty") is None
    manifest = json.loads((folder / compat.MANIFEST_FILE).read_text())
    assert manifest["feature_version"] == compat.FEATURE_VERSION
    with pytest.raises(ValueError, match="16-d"):
        loaded.pair_scores(np.zeros((1, 8), np.float32), e)


def test_tampered_npz_is_refused(tmp_path: Path, trained: tuple[CompatModel, dict[str, Any]]) -> None:
    model, _ = trained
    model.version = compat.new_version("tamper")
    folder = model.save(tmp_path)
    blob = bytearray((folder / compat.MODEL_FILE).read_bytes())
    blob[-10] ^= 0xFF
    (folder / compat.MODEL_FILE).write_bytes(bytes(blob))
    with pytest.raises(ModelArtifactError, match="sha256"):
        load_compat_model(tmp_path)


def test_fitb_accuracy_splits_ties_and_auc_counts_ties_half() -> None:
    assert compat.fitb_accuracy([[0.9, 0.1, 0.2, 0.3], [0.5, 0.5, 0.1, 0.1]], [0, 0]) == pytest.approx(0.75)
    assert compat.auc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]) == pytest.approx(0.875)


def test_negatives_keep_the_slot_when_asked() -> None:
    rng = np.random.default_rng(0)
    slots = np.array([0, 0, 1, 1, 2, 2], np.int64)
    right = np.array([0, 2, 4] * 50, np.int64)
    out = compat.sample_negatives(right, slots, np.arange(6, dtype=np.int64), rng, same_slot=1.0)
    assert np.array_equal(slots[out], slots[right])
