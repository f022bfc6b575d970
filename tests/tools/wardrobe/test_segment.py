"""Background removal on real catalogue photos: product shots, worn garments, a model server."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from tools.wardrobe.images import ImageRejected, load_image
from tools.wardrobe.segment import (
    ClassicalSegmenter,
    PersonAwareSegmenter,
    default_segmenter,
    person_landmarks,
)

THUMBS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"


def _rgb(item_id: int) -> np.ndarray:
    return load_image((THUMBS / f"{item_id}.jpg").read_bytes()).rgb


def test_shoe_on_a_plain_background_is_cut_classically():
    rgb = _rgb(1592)  # red sports shoe on light grey
    seg = default_segmenter().segment(rgb)
    assert seg.method == "grabcut"
    assert seg.person is False
    assert seg.mask.shape == rgb.shape[:2]
    assert seg.mask.dtype == bool
    assert 0.1 < seg.coverage < 0.35
    # The shoe's red pixels are inside, the corners are not.
    assert not seg.mask[0, 0]
    assert not seg.mask[-1, -1]
    red = (rgb[:, :, 0].astype(int) - rgb[:, :, 1] > 80) & (rgb[:, :, 0] > 150)
    assert seg.mask[red].mean() > 0.9
    x0, y0, x1, y1 = seg.garment_box
    assert 0 <= x0 < x1 <= rgb.shape[1]
    assert 0 <= y0 < y1 <= rgb.shape[0]


def test_worn_tshirt_is_cut_from_the_person_without_face_or_background():
    rgb = _rgb(1529)  # red T-shirt on a male model, grey studio
    seg = PersonAwareSegmenter().segment(rgb)
    assert seg.person is True
    assert seg.method == "person"
    assert 0.2 < seg.coverage < 0.5
    lm = person_landmarks(rgb)
    assert lm is not None
    h, w = rgb.shape[:2]
    nose_x, nose_y, _ = lm["nose"]
    assert not seg.mask[int(nose_y * h), int(nose_x * w)]
    # Most garment pixels are the T-shirt's red, not skin or the grey background.
    garment = rgb[seg.mask].astype(int)
    reddish = (garment[:, 0] - garment[:, 1] > 60).mean()
    assert reddish > 0.8


def test_landmarks_are_named_and_normalised():
    lm = person_landmarks(_rgb(1536))
    assert lm is not None
    assert {"nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip"} <= set(lm)
    assert all(0.0 <= v <= 1.0 for v in lm["left_shoulder"][2:])
    assert lm["left_shoulder"][1] < lm["left_hip"][1]


def test_no_person_in_a_product_photo():
    assert person_landmarks(_rgb(1592)) is None


def test_astronaut_photo_is_a_person():
    seg = default_segmenter().segment(skdata.astronaut())  # type: ignore[no-untyped-call]
    assert seg.person is True
    assert seg.coverage > 0.05


def test_flat_grey_image_has_no_garment():
    flat = np.full((200, 150, 3), 128, dtype=np.uint8)
    with pytest.raises(ImageRejected) as info:
        default_segmenter().segment(flat)
    assert info.value.code == "no_garment"


def test_speck_on_a_background_is_no_garment():
    img = np.full((300, 300, 3), 235, dtype=np.uint8)
    img[150:154, 150:154] = (20, 20, 20)
    with pytest.raises(ImageRejected) as info:
        ClassicalSegmenter().segment(img)
    assert info.value.code == "no_garment"


def test_mask_is_returned_at_the_input_size_for_large_photos():
    big = np.asarray(Image.fromarray(_rgb(1592)).resize((768, 1024)))
    seg = ClassicalSegmenter().segment(big)
    assert seg.mask.shape == (1024, 768)
    assert 0.1 < seg.coverage < 0.35


def test_segmenters_are_fast_on_thumbnails():
    segmenter = default_segmenter()
    shoe, shirt = _rgb(1592), _rgb(1529)
    segmenter.segment(shirt)  # model loading is not per image
    start = time.perf_counter()
    for _ in range(3):
        segmenter.segment(shoe)
        segmenter.segment(shirt)
    per_image = (time.perf_counter() - start) / 6
    assert per_image < 1.0
