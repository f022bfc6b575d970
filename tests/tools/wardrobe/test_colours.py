"""Dominant colours on synthetic swatches and real thumbnails, and the held-out accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from graphs.rules import COLOURS
from tools.wardrobe.colours import (
    COLOUR_NAMES_ZH,
    HELD_OUT_ACCURACY,
    REFERENCE_LAB,
    colour_name_zh,
    dominant_colours,
)
from tools.wardrobe.images import ImageRejected, load_image
from tools.wardrobe.segment import default_segmenter

THUMBS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"


def _top(item_id: int) -> str:
    rgb = load_image((THUMBS / f"{item_id}.jpg").read_bytes()).rgb
    seg = default_segmenter().segment(rgb)
    return dominant_colours(rgb, seg.mask)[0].name


def test_every_catalogue_colour_has_a_reference_and_a_chinese_name():
    assert set(COLOUR_NAMES_ZH) == set(COLOURS)
    assert set(REFERENCE_LAB) == set(COLOURS) - {"Multi"}
    assert colour_name_zh("Navy Blue") == "藏青色"
    assert colour_name_zh("Multi") == "多色"


def test_two_tone_swatch_shares_sum_to_one_and_are_sorted():
    img = np.zeros((100, 100, 3), dtype=np.uint8)
    img[:, :70] = (20, 20, 20)
    img[:, 70:] = (250, 250, 250)
    mask = np.ones((100, 100), dtype=bool)
    colours = dominant_colours(img, mask)
    assert [c.name for c in colours] == ["Black", "White"]
    assert colours[0].share == pytest.approx(0.7, abs=0.01)
    assert sum(c.share for c in colours) == pytest.approx(1.0)
    assert colours[0].name_zh == "黑色"


def test_only_masked_pixels_count():
    img = np.zeros((100, 100, 3), dtype=np.uint8)
    img[:] = (250, 250, 250)
    img[20:80, 20:80] = (200, 30, 40)
    mask = np.zeros((100, 100), dtype=bool)
    mask[20:80, 20:80] = True
    colours = dominant_colours(img, mask)
    assert [c.name for c in colours] == ["Red"]
    assert colours[0].share == pytest.approx(1.0)


def test_three_strong_hues_read_as_multi():
    img = np.zeros((90, 90, 3), dtype=np.uint8)
    img[:30] = (220, 30, 30)
    img[30:60] = (30, 160, 40)
    img[60:] = (30, 60, 220)
    colours = dominant_colours(img, np.ones((90, 90), dtype=bool))
    assert colours[0].name == "Multi"
    assert sum(c.share for c in colours) == pytest.approx(1.0)


def test_empty_mask_is_an_error():
    with pytest.raises(ValueError, match="no pixels"):
        dominant_colours(np.zeros((10, 10, 3), dtype=np.uint8), np.zeros((10, 10), dtype=bool))


@pytest.mark.parametrize(
    ("item_id", "expected"),
    [(1529, "Red"), (1536, "Black"), (1526, "Black"), (1592, "Red"), (1678, "Green")],
)
def test_known_thumbnails(item_id, expected):
    assert _top(item_id) == expected


@pytest.mark.slow
def test_held_out_accuracy_matches_the_documented_figure():
    rows = [json.loads(line) for line in (THUMBS / "index.jsonl").read_text().splitlines() if line.strip()]
    exact = family = total = 0
    for row in rows:
        if row["id"] % 2 == 0:
            continue
        total += 1
        try:
            top = _top(row["id"])
        except ImageRejected:
            continue  # a missed cut counts as a miss
        exact += top == row["baseColour"]
        family += COLOURS[top].family == COLOURS[row["baseColour"]].family
    assert total == 140
    assert exact / total == pytest.approx(HELD_OUT_ACCURACY["exact"], abs=0.01)
    assert family / total == pytest.approx(HELD_OUT_ACCURACY["family"], abs=0.01)
