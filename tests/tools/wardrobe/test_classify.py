"""The category models: captions read in English and Chinese, combination, features, artefacts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tools.artifacts import MODEL_FILE, ModelArtifactError
from tools.wardrobe.__main__ import main
from tools.wardrobe.classify import (
    CategoryModel,
    caption_scores,
    combine,
    fit_image_model,
    image_features,
    keyword_hits,
    out_of_fold,
    project_caption,
)

pytestmark = pytest.mark.unit


@dataclass
class _Segmentation:
    mask: np.ndarray
    person: bool


def _best(caption: str) -> str:
    scores = caption_scores(caption)
    assert scores is not None
    return max(scores.items(), key=lambda cp: cp[1])[0]


@pytest.mark.parametrize(
    ("caption", "category"),
    [
        ("my running shoes", "Sports Shoes"),
        ("白色运动鞋", "Sports Shoes"),
        ("black tee", "Tshirts"),
        ("New T-shirts", "Tshirts"),
        ("红色双肩包", "Backpacks"),
        ("a leather purse", "Handbags"),
        ("我的高跟鞋", "Heels"),
        ("blue denim jacket", "Jackets"),
        ("a cute summer dress", "Dresses"),
    ],
)
def test_captions_name_their_category(caption: str, category: str) -> None:
    assert _best(caption) == category


@pytest.mark.parametrize("caption", ["lovely thing I wear on weekends", "给我儿子买的", "   "])
def test_a_caption_that_names_no_category_says_nothing(caption: str) -> None:
    assert caption_scores(caption) is None


def test_the_longest_chinese_word_wins() -> None:
    assert keyword_hits("白色运动鞋") == [("Sports Shoes",)]
    assert keyword_hits("黑色双肩包") == [("Backpacks",)]


def test_a_shirt_caption_keeps_some_belief_in_tshirts() -> None:
    scores = caption_scores("my blue shirt")
    assert scores is not None
    assert scores["Shirts"] > 0.6
    assert scores["Tshirts"] > 0.05


def test_a_worn_tshirt_called_a_shirt_stays_a_tshirt() -> None:
    image = [("Tshirts", 0.9), ("Shirts", 0.05), ("Sports Shoes", 0.05)]
    assert combine(image, caption_scores("my blue shirt"))[0][0] == "Tshirts"


def test_the_caption_settles_what_the_image_leaves_open() -> None:
    image = [("Casual Shoes", 0.45), ("Sports Shoes", 0.4), ("Tshirts", 0.15)]
    ranked = combine(image, caption_scores("my running shoes"))
    assert ranked[0][0] == "Sports Shoes"
    assert sum(p for _, p in ranked) == pytest.approx(1.0)


def test_no_caption_leaves_the_image_ranking_alone() -> None:
    image = [("Tshirts", 0.7), ("Shirts", 0.3)]
    assert combine(image, None) == image


def test_a_caption_type_the_model_lacks_goes_to_its_kind() -> None:
    projected = project_caption({"Jackets": 0.9, "Tshirts": 0.1}, ["Tshirts", "outerwear", "shoes"])
    assert int(np.argmax(projected)) == 1


def test_features_have_one_length_whatever_the_photo() -> None:
    rng = np.random.default_rng(0)
    tall = rng.integers(0, 255, (256, 192, 3), dtype=np.uint8)
    wide = rng.integers(0, 255, (90, 300, 3), dtype=np.uint8)
    mask = np.zeros((256, 192), bool)
    mask[40:200, 30:160] = True
    a = image_features(tall, _Segmentation(mask, True))
    b = image_features(wide, _Segmentation(np.zeros((90, 300), bool), False))
    assert a.shape == b.shape
    assert np.isfinite(a).all()
    assert np.isfinite(b).all()


def _separable(n: int = 60) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(1)
    labels = ["Tshirts", "Sports Shoes", "bag"] * (n // 3)
    centres = {"Tshirts": 0.0, "Sports Shoes": 3.0, "bag": -3.0}
    x = np.stack([rng.normal(centres[label], 0.5, 8) for label in labels])
    return x, labels


def test_out_of_fold_predictions_learn_a_separable_problem() -> None:
    x, labels = _separable()
    predictions = out_of_fold(x, labels)
    hits = sum(p[0][0] == label for p, label in zip(predictions, labels, strict=True))
    assert hits / len(labels) > 0.9


def test_a_saved_model_loads_back_the_same(tmp_path: Path) -> None:
    x, labels = _separable()
    model = fit_image_model(x, labels)
    model.version = "wardrobe-category-20260101000000-0123abcd"
    model.caption_weight = 1.5
    folder = model.save(tmp_path)
    loaded = CategoryModel.load(tmp_path)
    assert loaded is not None
    assert loaded.version == model.version
    assert loaded.labels == model.labels
    assert loaded.caption_weight == 1.5
    assert loaded.predict(x[0]) == model.predict(x[0])
    (folder / MODEL_FILE).write_bytes(b"not a model")
    with pytest.raises(ModelArtifactError):
        CategoryModel.load(tmp_path)


def test_an_empty_model_folder_has_no_model(tmp_path: Path) -> None:
    assert CategoryModel.load(tmp_path) is None


def test_train_classifier_saves_a_version_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train-classifier", "--model-dir", str(tmp_path), "--limit", "15"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["trained"] is True
    assert trained["examples"] == 15
    loaded = CategoryModel.load(tmp_path)
    assert loaded is not None
    assert loaded.version == trained["version"]
    assert main(["train-classifier", "--model-dir", str(tmp_path), "--if-missing"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again == {"version": trained["version"], "trained": False}
