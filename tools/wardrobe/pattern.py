"""A garment's pattern, guessed from the texture inside its mask.

No model is needed for the common cases: stripes are edges with one dominant orientation,
checks two perpendicular ones, dots many small similar blobs, and a solid garment has
almost no edges once fabric folds and shading are smoothed away. What is left (textured with
no regular structure) is a print; "floral" additionally needs curved edges in several hues,
and is only claimed with modest confidence because logos and graphic prints look alike.

The features are computed on the interior of the mask (eroded so the garment's outline does
not count as texture), on a copy whose long side is 160 px, so a guess costs a few ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from tools.wardrobe.images import RGB, resize_max_side

Pattern = Literal["solid", "striped", "checked", "dotted", "floral", "printed"]

PATTERN_NAMES_ZH: dict[str, str] = {
    "solid": "纯色",
    "striped": "条纹",
    "checked": "格纹",
    "dotted": "波点",
    "floral": "印花(花卉)",
    "printed": "印花",
}

#: Fraction of interior pixels on a strong edge below which a garment reads as solid.
SOLID_EDGE_DENSITY = 0.06
SIDE = 160


@dataclass(frozen=True)
class PatternGuess:
    name: Pattern
    confidence: float
    name_zh: str


def _guess(name: Pattern, confidence: float) -> PatternGuess:
    return PatternGuess(name=name, confidence=round(float(np.clip(confidence, 0.0, 1.0)), 3),
                        name_zh=PATTERN_NAMES_ZH[name])  # fmt: skip


def _interior(rgb: RGB, mask: NDArray[Any]) -> tuple[RGB, NDArray[np.bool_]]:
    m = mask.astype(bool)
    ys, xs = np.nonzero(m)
    if len(ys) == 0:
        raise ValueError("the mask selects no pixels")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = resize_max_side(np.ascontiguousarray(rgb[y0:y1, x0:x1]), SIDE)
    h, w = crop.shape[:2]
    small = cv2.resize(m[y0:y1, x0:x1].astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    k = max(3, SIDE // 32)
    inner = cv2.erode(small, np.ones((k, k), np.uint8))
    if inner.sum() < 0.2 * small.sum():  # thin items: erosion would leave nothing to look at
        inner = small
    return crop, np.asarray(inner > 0)


def _orientation_peaks(
    gx: NDArray[np.float32], gy: NDArray[np.float32], strong: NDArray[np.bool_]
) -> list[float]:
    """Shares of edge energy in the two strongest orientations (±10°), largest first, and their gap."""
    angle = (np.degrees(np.arctan2(gy[strong], gx[strong])) % 180.0).astype(np.float64)
    weight = np.hypot(gx[strong], gy[strong]).astype(np.float64)
    hist, _ = np.histogram(angle, bins=36, range=(0, 180), weights=weight)
    total = hist.sum() or 1.0
    smooth = hist + np.roll(hist, 1) + np.roll(hist, -1)
    first = int(np.argmax(smooth))
    blocked = smooth.copy()
    for off in range(-4, 5):
        blocked[(first + off) % 36] = 0
    second = int(np.argmax(blocked))
    gap = abs(first - second) * 5.0
    gap = min(gap, 180.0 - gap)
    return [float(smooth[first] / total), float(blocked[second] / total), gap]


def _dot_score(grey: NDArray[np.uint8], inner: NDArray[np.bool_]) -> float:
    """How much the minority tone is made of many small, round, similar blobs (0-1)."""
    values = grey[inner]
    thresh, _ = cv2.threshold(values.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = (grey > thresh) & inner
    minority = bright if bright.sum() < 0.5 * inner.sum() else (~bright & inner)
    count, _, stats, _ = cv2.connectedComponentsWithStats(minority.astype(np.uint8), connectivity=8)
    if count < 6:
        return 0.0
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    wh = stats[1:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]].astype(np.float64)
    blobs = (areas >= 4) & (areas <= inner.sum() * 0.02)
    if blobs.sum() < 6:
        return 0.0
    fill = areas[blobs] / (wh[blobs, 0] * wh[blobs, 1])  # a disc fills ~0.785 of its box
    aspect = wh[blobs].min(axis=1) / wh[blobs].max(axis=1)
    round_ = (fill > 0.55) & (aspect > 0.6)
    similar = np.std(areas[blobs]) / np.mean(areas[blobs]) < 0.8
    covered = areas[blobs][round_].sum() / max(1.0, float(minority.sum()))
    return float(covered) if similar and round_.sum() >= 6 else 0.0


def _hue_count(crop: RGB, inner: NDArray[np.bool_]) -> int:
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)[inner]
    chromatic = hsv[(hsv[:, 1] > 60) & (hsv[:, 2] > 50)]
    if len(chromatic) < 0.05 * len(hsv):
        return 0
    hist = np.bincount((chromatic[:, 0].astype(int) // 15) % 12, minlength=12) / len(hsv)
    return int((hist > 0.05).sum())


def detect_pattern(rgb: RGB, mask: NDArray[Any]) -> PatternGuess:
    """The likeliest pattern and a confidence in [0, 1]."""
    crop, inner = _interior(rgb, mask)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    # Smoothing first: fabric weave, JPEG noise and soft fold shading are not a pattern.
    blurred = np.asarray(cv2.GaussianBlur(grey, (3, 3), 0), dtype=np.uint8)
    gx = np.asarray(cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3), dtype=np.float32)
    gy = np.asarray(cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3), dtype=np.float32)
    magnitude = np.hypot(gx, gy)
    strong = (magnitude > 120.0) & inner
    density = float(strong.sum() / max(1, inner.sum()))
    if density < SOLID_EDGE_DENSITY:
        return _guess("solid", 1.0 - density / SOLID_EDGE_DENSITY * 0.5)
    first, second, gap = _orientation_peaks(gx, gy, strong)
    if first > 0.55:
        return _guess("striped", first)
    if first + second > 0.6 and second > 0.2 and gap >= 70:
        return _guess("checked", first + second)
    dots = _dot_score(blurred, inner)
    if dots > 0.5:
        return _guess("dotted", dots)
    hues = _hue_count(crop, inner)
    spread = 1.0 - (first + second)  # edges in every direction: curves
    if hues >= 3 and spread > 0.6 and density > 0.15:
        return _guess("floral", 0.4)
    return _guess("printed", min(0.9, 0.4 + density))
