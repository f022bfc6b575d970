"""Cutting the garment out of its product photo, whoever wears it there."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.tryon.garment import prepare_garment
from tools.wardrobe.images import load_image
from tools.wardrobe.segment import person_landmarks

THUMBNAILS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"


def test_a_top_worn_by_a_model_is_cut_without_the_models_head_or_trousers() -> None:
    # "Ferrari Tee": a man wearing the tee with jeans, photographed from the knees up.
    rgb = load_image((THUMBNAILS / "1529.jpg").read_bytes()).rgb
    landmarks = person_landmarks(rgb)
    assert landmarks is not None
    h = rgb.shape[0]
    garment = prepare_garment(rgb, None, "upper")
    rows = np.nonzero(garment.mask.any(axis=1))[0]
    nose_y = landmarks["nose"][1] * h
    hip_y = np.mean([landmarks[f"{s}_hip"][1] for s in ("left", "right")]) * h
    shoulder_y = np.mean([landmarks[f"{s}_shoulder"][1] for s in ("left", "right")]) * h
    assert rows.min() > nose_y  # no face
    assert rows.max() < hip_y + 0.3 * (hip_y - shoulder_y)  # no jeans
    # What is kept is the red tee.
    red = garment.rgb[garment.mask].astype(int)
    assert np.median(red[:, 0]) > np.median(red[:, 1]) + 60


def test_a_packshot_is_cut_whole() -> None:
    rgb = load_image((THUMBNAILS / "1526.jpg").read_bytes()).rgb
    garment = prepare_garment(rgb, None, "upper")
    assert 0.1 < garment.mask.mean() < 0.9
