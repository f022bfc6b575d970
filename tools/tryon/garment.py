"""A garment photo, cut out and described by the few points a warp needs.

The geometric engine dresses a person by moving a handful of garment points onto body points
(shoulder seams onto shoulders, sleeve axes along the arms, hem onto the hips) and carrying
everything in between. Published engines learn those correspondences;
here they come from the silhouette alone, which works for the frontal, flat product photos of
shops and flat-lays and is the reason a side view or a folded garment warps badly.

Upper garments (the silhouette of a T-shirt, shirt, top): the **torso** is the central run of
mask pixels in the lower half (sleeves that hang beside it are separated by the gap between
them; long sleeves that hang *against* it make the body look far wider than its shoulder row,
and then the slits between sleeve and body, or failing those the shoulder row, give its
edges); the **hem** is the lowest cloth in the middle (long cuffs may hang lower); **shoulder
seams** are the top of the mask above the torso edges, the **collar** is the top of the mask
in the middle, an **armpit** is where the sleeve's underside meets the torso edge, and a
**sleeve** is what lies outside the torso edges above the armpit plus what hangs from it well
outside them (not a flared hem), ending in a **cuff** (the far end along its own axis).
Lower garments and dresses are described by their bounding geometry (waist, hem and, for
trousers, the crotch).

Points are in garment-photo pixels, ``(x, y)``, and "left"/"right" are as seen in the photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from tools.tryon.engine import GarmentKind, Mask, TryOnRejected
from tools.wardrobe.images import RGB, ImageRejected
from tools.wardrobe.segment import ClassicalSegmenter, PersonAwareSegmenter, person_landmarks

Point = tuple[float, float]

#: A side's pixels outside the torso below this share of the garment are no sleeve.
MIN_SLEEVE_SHARE = 0.015


@dataclass(frozen=True)
class Sleeve:
    #: Where the sleeve leaves the torso (between the shoulder seam and the armpit).
    root: Point
    #: Centre of the cuff, the sleeve's far end.
    cuff: Point
    #: Half the cuff's width across the sleeve.
    cuff_half_width: float


@dataclass(frozen=True)
class GarmentPoints:
    kind: GarmentKind
    box: tuple[int, int, int, int]
    #: Named points, e.g. ``collar``, ``shoulder_left``, ``armpit_right``, ``hem_left``,
    #: ``waist_left``, ``crotch``.
    points: dict[str, Point]
    sleeves: dict[str, Sleeve] = field(default_factory=dict)
    #: Torso edges (x) as seen in the photo.
    torso_left: float = 0.0
    torso_right: float = 0.0


@dataclass(frozen=True)
class PreparedGarment:
    rgb: RGB
    mask: Mask
    keypoints: GarmentPoints
    #: 1 on the torso part, 2 on the sleeves (0 elsewhere); the engine layers arms with it.
    parts: NDArray[np.uint8]


def _no_garment() -> TryOnRejected:
    return TryOnRejected(
        "no_garment",
        "We couldn't make out the garment in this photo. Please use a photo of the item on its own, "
        "laid flat or on a plain background, facing the camera.",
    )


def _largest(mask: Mask) -> Mask:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    return np.asarray(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])))


def _fill_holes(mask: Mask) -> Mask:
    """Prints and lace come out of a cut as holes; a garment is one solid piece of cloth."""
    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(m)
    cv2.drawContours(filled, contours, -1, 1, -1)
    return np.asarray(filled > 0)


def _top(mask: Mask, x: float) -> float:
    """The highest mask pixel near column ``x``."""
    w = mask.shape[1]
    xi = int(np.clip(round(x), 0, w - 1))
    band = mask[:, max(0, xi - 2) : xi + 3].any(axis=1)
    ys = np.flatnonzero(band)
    return float(ys[0]) if len(ys) else 0.0


def _centre_run(row: NDArray[np.bool_], cx: int) -> tuple[int, int] | None:
    """Bounds of the run of mask pixels through (or nearest to) column ``cx``."""
    xs = np.flatnonzero(row)
    if not len(xs):
        return None
    if not row[cx]:
        cx = int(xs[np.argmin(np.abs(xs - cx))])
    left = cx
    while left > 0 and row[left - 1]:
        left -= 1
    right = cx
    while right < len(row) - 1 and row[right + 1]:
        right += 1
    return left, right


#: Torso wider than this many times the shoulder row: long sleeves hang against the body.
TOUCHING_SLEEVES = 1.3


def _inner_gaps(mask: Mask, rows: range, near: float, reach: float, sign: int) -> list[float]:
    """Inner ends (torso side) of the narrow gaps between a hanging sleeve and the body: the
    background slits a product photo shows where the sleeve does not quite touch the torso."""
    found: list[float] = []
    for y in rows:
        row = mask[y]
        lo, hi = int(max(0, near - reach)), int(min(len(row), near + reach))
        seg = ~row[lo:hi]
        if not seg.any():
            continue
        xs = np.flatnonzero(seg) + lo
        # only background with cloth on both sides counts: a slit, not the outside
        inside = [x for x in xs if row[: int(x)].any() and row[int(x) + 1 :].any()]
        if inside:
            found.append(float(max(inside) + 1 if sign < 0 else min(inside) - 1))
    return found


def _torso_edges(
    mask: Mask, raw: Mask, y0: int, height: int, cx: int
) -> tuple[float, float, NDArray[np.bool_]]:
    """(left, right) torso edges and the central run of every row.

    Sleeves that hang apart from the body are excluded by the central run; the median over the
    lower rows ignores sleeves that widen only some rows; long sleeves that hang *against* the
    body make every row too wide, which shows as a torso much wider than the shoulder row, and
    then the slits between sleeve and body (or, failing those, the shoulder row) give the edges."""
    runs = np.zeros_like(mask)
    lefts, rights = [], []
    for y in range(y0, y0 + height):
        run = _centre_run(mask[y], cx)
        if run is None:
            continue
        runs[y, run[0] : run[1] + 1] = True
        if y0 + 0.45 * height <= y < y0 + 0.95 * height:
            lefts.append(run[0])
            rights.append(run[1])
    if not lefts:
        xs = np.flatnonzero(mask.any(axis=0))
        return float(xs[0]), float(xs[-1]), runs
    left, right = float(np.median(lefts)), float(np.median(rights))
    row = mask[min(y0 + round(0.1 * height), mask.shape[0] - 1)]
    shoulder_row = _centre_run(row, cx)
    if shoulder_row is None or not row[cx]:  # straps of a camisole, not shoulders
        return left, right, runs
    s_left, s_right = float(shoulder_row[0]), float(shoulder_row[1])
    if not TOUCHING_SLEEVES * (s_right - s_left) < right - left < 2.5 * (s_right - s_left):
        return left, right, runs
    reach = (s_right - s_left) * 0.2
    rows = range(y0 + round(0.3 * height), y0 + round(0.8 * height), 4)
    gl = _inner_gaps(raw, rows, s_left, reach, -1)
    gr = _inner_gaps(raw, rows, s_right, reach, 1)
    new_left = float(np.median(gl)) if len(gl) >= 3 else None
    new_right = float(np.median(gr)) if len(gr) >= 3 else None
    if new_left is None and new_right is not None:
        new_left = 2 * cx - new_right
    if new_right is None and new_left is not None:
        new_right = 2 * cx - new_left
    if new_left is None or new_right is None:
        new_left, new_right = s_left, s_right
    return new_left, new_right, runs


def _hem_y(mask: Mask, left: float, right: float, fallback: float) -> float:
    """The lowest cloth in the middle of the torso: below it only sleeves (cuffs of long
    sleeves hang lower than a short top's hem) or nothing."""
    w = right - left
    cols = np.clip(np.round(np.linspace(left + 0.25 * w, right - 0.25 * w, 9)), 0, mask.shape[1] - 1).astype(
        int
    )
    lows = [float(np.flatnonzero(mask[:, c])[-1]) for c in cols if mask[:, c].any()]
    return float(np.median(lows)) if lows else fallback


def _upper_points(mask: Mask, raw: Mask) -> tuple[GarmentPoints, NDArray[np.uint8]]:
    """``raw``: the cut before its holes were filled, where the slits beside sleeves show."""
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    height = y1 - y0
    cx = (
        round(float(np.median(xs[ys > y0 + 0.6 * height])))
        if np.any(ys > y0 + 0.6 * height)
        else (x0 + x1) // 2
    )
    torso_left, torso_right, runs = _torso_edges(mask, raw, y0, height, cx)
    torso_w = max(torso_right - torso_left, 1.0)
    sh_left = (torso_left + torso_w * 0.04, _top(mask, torso_left + torso_w * 0.04))
    sh_right = (torso_right - torso_w * 0.04, _top(mask, torso_right - torso_w * 0.04))
    centre_x = (torso_left + torso_right) / 2
    collar = (
        centre_x,
        float(np.min([_top(mask, centre_x + d) for d in (-torso_w * 0.05, 0, torso_w * 0.05)])),
    )
    bottom = _hem_y(mask, torso_left, torso_right, y0 + 0.97 * height) - 0.02 * height
    hem_run = _centre_run(mask[int(np.clip(bottom, 0, mask.shape[0] - 1))], int(centre_x))
    hem_l, hem_r = (float(hem_run[0]), float(hem_run[1])) if hem_run else (torso_left, torso_right)
    hem_l, hem_r = max(hem_l, torso_left - torso_w * 0.15), min(hem_r, torso_right + torso_w * 0.15)
    points: dict[str, Point] = {
        "collar": collar,
        "shoulder_left": sh_left,
        "shoulder_right": sh_right,
        "hem_left": (hem_l, bottom),
        "hem_right": (hem_r, bottom),
    }
    parts = np.where(mask, 1, 0).astype(np.uint8)
    sleeves: dict[str, Sleeve] = {}
    gx = np.nonzero(mask)[1]
    shoulder_y = (sh_left[1] + sh_right[1]) / 2
    for side, edge, sign, shoulder in (
        ("left", torso_left, -1, sh_left),
        ("right", torso_right, 1, sh_right),
    ):
        margin = torso_w * 0.03
        default_pit = shoulder_y + torso_w * 0.42
        col = mask[:, int(np.clip(round(edge + sign * margin), 0, mask.shape[1] - 1))]
        below = np.flatnonzero(col[int(shoulder[1]) :])
        if len(below):
            # the first run down the column just outside the torso is the sleeve's underside
            run_end = below[0]
            while run_end + 1 < len(col) - int(shoulder[1]) and col[int(shoulder[1]) + run_end + 1]:
                run_end += 1
            pit_y = float(shoulder[1] + run_end)
        else:
            pit_y = default_pit
        pit_y = float(np.clip(pit_y, shoulder_y + torso_w * 0.2, shoulder_y + torso_w * 0.6))
        points[f"armpit_{side}"] = (edge, pit_y)
        # cloth just under the armpit, outside the torso edge, is the sleeve's underside seam
        # allowance, not body: left as torso it would stick out beside the chest as a wing
        beside = np.arange(mask.shape[1])[None, :] * sign > (edge + sign * margin) * sign
        under = np.zeros_like(mask)
        under[int(shoulder[1]) : int(pit_y + 0.15 * torso_w)] = True
        parts[beside & under & mask] = 0
        # Above the armpit everything outside the torso is sleeve; below it only cloth well
        # outside the torso edge that hangs from that part (a long sleeve), not a flared hem.
        outside = mask & (np.arange(mask.shape[1])[None, :] * sign > (edge + sign * margin) * sign)
        upper = outside.copy()
        upper[int(pit_y) :] = False
        far = mask & (np.arange(mask.shape[1])[None, :] * sign > (edge + sign * torso_w * 0.1) * sign)
        far[: int(pit_y)] = False
        candidate = (upper | far).astype(np.uint8)
        count, labels = cv2.connectedComponents(candidate, connectivity=8)
        keep = np.unique(labels[upper & (labels > 0)])
        sleeve_mask = np.isin(labels, keep[keep > 0]) if len(keep) else np.zeros_like(mask)
        del count
        if sleeve_mask.sum() < MIN_SLEEVE_SHARE * len(gx):
            continue
        sy, sx = np.nonzero(sleeve_mask)
        sx_f, sy_f = sx.astype(np.float64), sy.astype(np.float64)
        root = np.array([edge, (shoulder[1] + pit_y) / 2])
        d = np.hypot(sx_f - root[0], sy_f - root[1])
        tip = np.array([sx_f[np.argmax(d)], sy_f[np.argmax(d)]])
        axis = (tip - root) / max(float(np.linalg.norm(tip - root)), 1.0)
        proj = (sx_f - root[0]) * axis[0] + (sy_f - root[1]) * axis[1]
        far_end = proj >= proj.max() * 0.85
        cuff = np.array([sx_f[far_end].mean(), sy_f[far_end].mean()])
        perp = (sx_f[far_end] - cuff[0]) * -axis[1] + (sy_f[far_end] - cuff[1]) * axis[0]
        half = float(max((perp.max() - perp.min()) / 2, torso_w * 0.05))
        if abs(axis[1]) > 0.85:
            # a sleeve hanging down the photo starts at the shoulder seam, in its own middle,
            # and its axis runs through the middle of the cuff
            root = np.array([edge + sign * half, shoulder[1] + torso_w * 0.08])
        else:
            # project the cuff centre back onto the axis so the sleeve stays straight
            cuff = root + axis * float(np.dot(cuff - root, axis))
        sleeves[side] = Sleeve(
            root=(float(root[0]), float(root[1])), cuff=(float(cuff[0]), float(cuff[1])), cuff_half_width=half
        )
        parts[sleeve_mask] = 2
    del runs
    gp = GarmentPoints(
        kind="upper",
        box=(x0, y0, x1, y1),
        points=points,
        sleeves=sleeves,
        torso_left=torso_left,
        torso_right=torso_right,
    )
    return gp, parts


def _box_points(mask: Mask, kind: GarmentKind) -> GarmentPoints:
    """Waist, hem and (trousers) crotch from the bounding geometry of a lower garment or dress."""
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    height = y1 - y0

    def row_bounds(frac: float) -> tuple[float, float]:
        y = int(min(y0 + frac * height, mask.shape[0] - 1))
        row = np.flatnonzero(mask[y])
        return (float(row[0]), float(row[-1])) if len(row) else (float(x0), float(x1 - 1))

    top_l, top_r = row_bounds(0.03)
    mid_l, mid_r = row_bounds(0.5)
    bot_l, bot_r = row_bounds(0.97)
    points: dict[str, Point] = {
        "waist_left": (top_l, y0 + 0.03 * height),
        "waist_right": (top_r, y0 + 0.03 * height),
        "mid_left": (mid_l, y0 + 0.5 * height),
        "mid_right": (mid_r, y0 + 0.5 * height),
        "hem_left": (bot_l, y0 + 0.97 * height),
        "hem_right": (bot_r, y0 + 0.97 * height),
    }
    if kind == "lower":
        cx = round((top_l + top_r) / 2)
        col = np.asarray(mask[y0:y1, max(0, cx - 1) : cx + 2].all(axis=1), dtype=bool)
        gaps = np.flatnonzero(~col[int(0.2 * height) :])
        if len(gaps) and gaps[0] + 0.2 * height < 0.8 * height:  # trousers: legs part below the crotch
            points["crotch"] = (float(cx), float(y0 + 0.2 * height + gaps[0]))
    return GarmentPoints(kind=kind, box=(x0, y0, x1, y1), points=points, torso_left=top_l, torso_right=top_r)


def _threshold_cut(rgb: RGB) -> Mask:
    """Everything that differs from the border colour at all: the fallback for a pale garment on
    a white studio background, where GrabCut's colour models cannot tell the two apart."""
    h, w = rgb.shape[:2]
    b = max(2, min(h, w) // 64)
    border = np.concatenate(
        [
            rgb[:b].reshape(-1, 3),
            rgb[-b:].reshape(-1, 3),
            rgb[:, :b].reshape(-1, 3),
            rgb[:, -b:].reshape(-1, 3),
        ]
    )
    ref = np.median(border, axis=0)
    diff = np.abs(rgb.astype(np.int16) - ref.astype(np.int16)).max(axis=2)
    k = max(3, (max(h, w) // 60) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    m = cv2.morphologyEx((diff > 10).astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
    return _fill_holes(_largest(np.asarray(m > 0)))


#: Cuts a worn garment from its model (MediaPipe pose + selfie segmentation, minus face and skin).
_WORN = PersonAwareSegmenter()


def _worn_cut(rgb: RGB, kind: GarmentKind) -> Mask | None:
    """The garment alone when the product photo shows it worn by a model (half the catalogue's
    photos do): a cut of the whole picture would carry the model's head and arms onto the person.
    ``None`` when nobody wears it (a flat-lay or packshot)."""
    landmarks = person_landmarks(rgb)
    try:
        cut = _WORN.cut_worn(rgb, landmarks)
    except ImageRejected:
        return None
    if cut is None or landmarks is None:
        return None
    mask = np.asarray(cut.mask)
    if kind == "upper" and min(landmarks[f"{s}_hip"][2] for s in ("left", "right")) > 0.3:
        # A top ends near the hips: below them is the model's trousers or skirt.
        h = rgb.shape[0]
        shoulders = np.mean([landmarks[f"{s}_shoulder"][1] for s in ("left", "right")]) * h
        hips = np.mean([landmarks[f"{s}_hip"][1] for s in ("left", "right")]) * h
        mask[int(hips + 0.15 * max(hips - shoulders, 1.0)) :] = False
    return mask if mask.mean() >= 0.01 else None


def _cut(rgb: RGB, kind: GarmentKind = "upper") -> Mask:
    worn = _worn_cut(rgb, kind)
    if worn is not None:
        return worn
    try:
        mask = ClassicalSegmenter().segment(rgb).mask
    except ImageRejected:
        mask = np.zeros(rgb.shape[:2], dtype=bool)
    if mask.mean() < 0.08:
        fallback = _threshold_cut(rgb)
        if fallback.mean() > mask.mean() and fallback.mean() < 0.9:
            mask = fallback
    if mask.mean() < 0.01:
        raise _no_garment()
    return np.asarray(mask)


def _bleed(rgb: RGB, mask: Mask) -> RGB:
    """Garment colours spread a few pixels past its edge, so the anti-aliased rim of the warp
    blends into cloth colour rather than the studio white around it."""
    m = mask.astype(np.float32)
    num = cv2.GaussianBlur(rgb.astype(np.float32) * m[..., None], (0, 0), 4)
    den = cv2.GaussianBlur(m, (0, 0), 4)[..., None]
    spread = np.clip(num / np.maximum(den, 1e-3), 0, 255).astype(np.uint8)
    return np.asarray(np.where(mask[..., None], rgb, spread), dtype=np.uint8)


def prepare_garment(rgb: RGB, mask: Mask | None, kind: GarmentKind = "upper") -> PreparedGarment:
    """Cut the garment out (GrabCut from the border when no mask is given) and find its points;
    raises ``TryOnRejected("no_garment")`` when nothing garment-sized stands out."""
    given = mask is not None
    if mask is None:
        mask = _cut(rgb, kind)
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"garment mask {mask.shape} does not match the photo {rgb.shape[:2]}")
    mask = np.asarray(mask, dtype=bool)
    if mask.mean() < 0.01:
        raise _no_garment()
    raw = _largest(mask)
    mask = _fill_holes(raw)
    # A given mask's holes are background (the slit beside a hanging sleeve) and take the cloth's
    # colour; a cut's holes are usually print the cut missed, and keep theirs.
    rgb = _bleed(rgb, raw if given else mask)
    if kind == "upper":
        keypoints, parts = _upper_points(mask, raw)
    else:
        keypoints = _box_points(mask, kind)
        parts = mask.astype(np.uint8)
    return PreparedGarment(rgb=rgb, mask=mask, keypoints=keypoints, parts=parts)
