"""The tagger on real catalogue thumbnails: kind, colour and rules, with and without an image model."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from graphs.vocabulary import Occasion, Season
from tools.wardrobe.classify import CategoryModel, default_caption_classifier, fit_image_model, image_features
from tools.wardrobe.segment import default_segmenter
from tools.wardrobe.tagging import Tagger, decide, suggest_occasions, suggest_seasons

pytestmark = pytest.mark.unit

THUMBNAILS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"
TRAIN_TYPES = ("Tshirts", "Sports Shoes", "Casual Shoes", "Backpacks", "Handbags", "Heels", "Sandals")
PER_TYPE = 6


def _rows() -> list[dict[str, str]]:
    return [json.loads(line) for line in (THUMBNAILS / "index.jsonl").read_text().splitlines() if line]


def _rgb(row: dict[str, str]) -> np.ndarray:
    return np.asarray(Image.open(THUMBNAILS / Path(row["image"]).name).convert("RGB"))


def _split() -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    """Up to PER_TYPE photos of each type to train on, and the next photo of each to tag."""
    seen: dict[str, list[dict[str, str]]] = defaultdict(list)
    held: dict[str, dict[str, str]] = {}
    for row in _rows():
        kind = row["articleType"]
        if kind not in TRAIN_TYPES:
            continue
        if len(seen[kind]) < PER_TYPE:
            seen[kind].append(row)
        elif kind not in held:
            held[kind] = row
    return [r for rows in seen.values() for r in rows], held


@pytest.fixture(scope="module")
def model() -> CategoryModel:
    segmenter = default_segmenter()
    train, _ = _split()
    x = np.vstack([image_features(_rgb(r), segmenter.segment(_rgb(r))) for r in train])
    return fit_image_model(x, [r["articleType"] for r in train])


@pytest.mark.parametrize(
    ("article", "kind"), [("Sports Shoes", "shoes"), ("Backpacks", "bag"), ("Tshirts", "top")]
)
def test_an_unseen_photo_gets_a_plausible_kind(model: CategoryModel, article: str, kind: str) -> None:
    _, held = _split()
    tagger = Tagger(default_segmenter(), model, default_caption_classifier())
    _, tags = tagger.tag(_rgb(held[article]))
    assert tags.kind == kind
    assert tags.colours
    assert tags.colour == tags.colours[0].name
    assert 0.0 < tags.category_confidence <= 1.0
    assert tags.timings_ms["total"] > 0


def test_without_a_model_the_caption_alone_names_the_category() -> None:
    _, held = _split()
    tagger = Tagger(default_segmenter(), None, default_caption_classifier())
    _, tags = tagger.tag(_rgb(held["Sports Shoes"]), "my white running shoes")
    assert tags.category == "Sports Shoes"
    assert tags.kind == "shoes"
    assert tags.slot == "shoes"
    assert Occasion.SPORT.value in tags.occasions


def test_without_a_model_or_caption_nothing_is_invented() -> None:
    _, held = _split()
    _, tags = Tagger(default_segmenter(), None, default_caption_classifier()).tag(_rgb(held["Backpacks"]))
    assert (tags.category, tags.kind, tags.slot, tags.category_confidence) == (None, None, None, 0.0)
    assert tags.seasons == []
    assert tags.colours


def test_weather_bound_types_get_their_seasons() -> None:
    assert set(suggest_seasons("Shorts", None, None)) == {Season.SPRING.value, Season.SUMMER.value}
    assert set(suggest_seasons("Sandals", None, "White")) == {Season.SPRING.value, Season.SUMMER.value}
    jacket = suggest_seasons("Jackets", None, "Black")
    assert set(jacket) == {Season.FALL.value, Season.WINTER.value, Season.SPRING.value}
    assert jacket[0] == Season.FALL.value
    assert len(suggest_seasons("Tshirts", None, "Yellow")) == 4
    assert suggest_seasons("Tshirts", None, "Yellow")[0] == Season.SUMMER.value


def test_occasions_follow_the_type() -> None:
    assert suggest_occasions("Sports Shoes", None)[:2] == [Occasion.SPORT.value, Occasion.EVERYDAY.value]
    assert {Occasion.WORK.value, Occasion.FORMAL.value} <= set(suggest_occasions("Formal Shoes", None))
    assert suggest_occasions(None, None) == []


def test_a_kind_label_takes_its_type_from_the_caption() -> None:
    category, kind, confidence = decide(
        [("outerwear", 0.6), ("Tshirts", 0.4)], {"Jackets": 0.8, "Tshirts": 0.2}
    )
    assert (category, kind.value if kind else None, confidence) == ("Jackets", "outerwear", 0.6)
    category, kind, _ = decide([("outerwear", 0.6), ("Tshirts", 0.4)], {"Tshirts": 0.9, "Jackets": 0.1})
    assert (category, kind.value if kind else None) == (None, "outerwear")
