"""``python -m evals wardrobe`` on the first 60 thumbnails: every figure present, in range, out-of-fold."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evals.__main__ import main
from evals.wardrobe import run, table

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return run(limit=60)


def test_every_figure_is_reported_in_range(result: dict[str, Any]) -> None:
    assert result["images"] == 60
    category = result["category"]
    for mode in ("image", "image_caption", "image_caption_tuned", "caption"):
        for key in ("article_accuracy", "kind_accuracy"):
            assert 0.0 <= category[mode][key] <= 1.0
    for key in ("exact_accuracy", "family_accuracy"):
        assert 0.0 <= result["colour"][key] <= 1.0
    assert category["majority_baseline"]["article"] == "Tshirts"
    assert len(category["image_caption_tuned"]["caption_weights"]) == result["folds"]
    assert result["pattern"]["labelled"] is False
    assert sum(result["pattern"]["distribution"].values()) == 60
    assert sum(result["segmentation"]["methods"].values()) == 60
    assert 0 < result["timing_ms"]["per_image_p50"] <= result["timing_ms"]["per_image_p95"]


def test_the_caption_helps_the_image(result: dict[str, Any]) -> None:
    category = result["category"]
    assert category["image_caption"]["article_accuracy"] >= category["image"]["article_accuracy"]
    assert category["image_caption"]["kind_accuracy"] >= category["image"]["kind_accuracy"]
    assert category["image"]["kind_accuracy"] > category["majority_baseline"]["kind_accuracy"]


def test_the_table_names_each_mode(result: dict[str, Any]) -> None:
    text = table(result)
    for name in ("majority baseline", "image + caption", "caption alone", "segmenter", "p95"):
        assert name in text


def test_the_cli_ends_with_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wardrobe", "--limit", "12"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["images"] == 12
