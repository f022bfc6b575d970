"""What every engine's output goes through before a person sees it.

A generated image is never returned as is: models work at their own resolution (``Upscaler``
brings the picture back to the photo's size), drift in overall tone (``match_colour`` moves the
untouched part back to the original's colour statistics, and the same shift is applied to the
whole picture), and repaint pixels they had no business touching. ``paste_back`` therefore
keeps the original photo everywhere outside the garment region, with a feathered seam so the
border between old and new pixels does not show.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np
from PIL import Image

from tools.tryon.engine import RGB, Mask


class Upscaler(Protocol):
    def upscale(self, rgb: RGB, size: tuple[int, int]) -> RGB:
        """``rgb`` resized to ``size`` = (width, height)."""
        ...


class LanczosUpscaler:
    """Plain Lanczos resampling: the CPU default; a super-resolution model can replace it."""

    def upscale(self, rgb: RGB, size: tuple[int, int]) -> RGB:
        if (rgb.shape[1], rgb.shape[0]) == size:
            return rgb
        image = Image.fromarray(np.ascontiguousarray(rgb), "RGB").resize(size, Image.Resampling.LANCZOS)
        return np.asarray(image, dtype=np.uint8)


def _lab(rgb: RGB) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB).astype(np.float32)


def match_colour(generated: RGB, reference: RGB, region: Mask) -> RGB:
    """Shift ``generated`` so that, *outside* ``region``, its Lab mean and spread match
    ``reference``: the part that should not have changed tells how far the model's tone drifted,
    and the same correction is applied everywhere (the garment included)."""
    if generated.shape != reference.shape:
        raise ValueError(f"generated {generated.shape} and reference {reference.shape} differ in size")
    keep = ~region
    if keep.sum() < 16:
        return generated
    gen, ref = _lab(generated), _lab(reference)
    g_mean, g_std = gen[keep].mean(axis=0), gen[keep].std(axis=0)
    r_mean, r_std = ref[keep].mean(axis=0), ref[keep].std(axis=0)
    scale = np.clip(r_std / np.maximum(g_std, 1e-3), 0.5, 2.0)
    out = (gen - g_mean) * scale + r_mean
    return np.asarray(cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB), dtype=np.uint8)


def feather(region: Mask, feather_px: float) -> np.ndarray:
    """A soft alpha that is 1 well inside ``region`` and exactly 0 beyond ``feather_px`` outside."""
    alpha = region.astype(np.float32)
    if feather_px <= 0:
        return alpha
    k = max(3, round(feather_px) | 1)
    grown = cv2.dilate(region.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    alpha = np.asarray(cv2.GaussianBlur(grown.astype(np.float32), (0, 0), feather_px / 2.5), dtype=np.float32)
    alpha[grown == 0] = 0.0
    alpha = np.maximum(alpha, region.astype(np.float32))
    return np.asarray(np.clip(alpha, 0.0, 1.0), dtype=np.float32)


def paste_back(original: RGB, generated: RGB, region: Mask, feather_px: float = 4.0) -> RGB:
    """``generated`` inside ``region`` (and a feathered seam just outside it), ``original``
    everywhere else, pixel for pixel."""
    if original.shape != generated.shape or region.shape != original.shape[:2]:
        raise ValueError("original, generated and region must have the same size")
    alpha = feather(region, feather_px)[..., None]
    out = original.astype(np.float32) * (1 - alpha) + generated.astype(np.float32) * alpha
    result = np.clip(np.round(out), 0, 255).astype(np.uint8)
    untouched = alpha[..., 0] == 0
    result[untouched] = original[untouched]
    return np.asarray(result, dtype=np.uint8)
