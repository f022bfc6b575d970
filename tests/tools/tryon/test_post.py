"""Paste-back keeps the original outside the garment; colour matching undoes a tone drift."""

from __future__ import annotations

import numpy as np
import pytest

from tools.tryon.post import LanczosUpscaler, match_colour, paste_back

pytestmark = pytest.mark.unit


def _photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)


def test_paste_back_changes_only_the_region_and_its_seam() -> None:
    original = _photo()
    generated = np.full_like(original, 10)
    region = np.zeros(original.shape[:2], dtype=bool)
    region[40:80, 30:60] = True
    out = paste_back(original, generated, region, feather_px=4)
    assert out.shape == original.shape
    assert np.array_equal(out[region], generated[region])
    far = np.ones_like(region)
    far[30:90, 20:70] = False
    assert np.array_equal(out[far], original[far])
    seam = out[38, 45].astype(int)  # just outside: a blend
    assert not np.array_equal(seam, original[38, 45]) or not np.array_equal(seam, generated[38, 45])


def test_paste_back_refuses_mismatched_sizes() -> None:
    with pytest.raises(ValueError):
        paste_back(_photo(), np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10), bool))


def test_lanczos_upscaler_reaches_the_size() -> None:
    out = LanczosUpscaler().upscale(_photo(), (180, 240))
    assert out.shape == (240, 180, 3)
    assert out.dtype == np.uint8


def test_match_colour_undoes_a_brightness_drift() -> None:
    reference = _photo()
    region = np.zeros(reference.shape[:2], dtype=bool)
    region[:30] = True
    drifted = np.clip(reference.astype(int) * 0.7 + 40, 0, 255).astype(np.uint8)
    fixed = match_colour(drifted, reference, region)
    keep = ~region
    before = np.abs(drifted[keep].astype(int) - reference[keep]).mean()
    after = np.abs(fixed[keep].astype(int) - reference[keep]).mean()
    assert after < before / 3
