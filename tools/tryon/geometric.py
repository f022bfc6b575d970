"""The embedded CPU try-on: warp the garment photo onto the body, then composite it.

No model is involved, so it runs anywhere the API runs and answers in well under a second;
it is the fallback when no try-on model server is reachable and the baseline the models are
measured against. What it does, in order:

1. **Person** (``check_person``, ``check_fit``): MediaPipe skeleton and silhouette; refuses
   photos it cannot dress.
2. **Garment** (``prepare_garment``): silhouette and keypoints (shoulder seams, collar,
   armpits, hem corners, sleeve cuffs).
3. **Warp** (tops): the torso is fitted band by band (``torso_map``): rows map linearly from
   the shoulder seams (on the top of the shoulders) to a hem at the hips, or at the garment's
   own length within limits, and each row maps the garment's width onto the body's there
   (shoulders, chest, hips from the hip joints), never wider than the silhouette. Each sleeve
   is laid along its arm (``sleeve_map``): the garment's sleeve axis follows the shoulder,
   elbow and wrist chain, bending at the elbow, as long as the garment makes it and about as
   wide as the arm; an arm Pose does not see keeps the person's own sleeve. Trousers, skirts
   and dresses still use a thin-plate spline through a few bounding points.
4. **Composite**: the garment is clipped to the person's (hole-free) silhouette; head, hair
   over the shoulders, hands and bare forearms stay in front; small pieces of the old garment
   the new one leaves bare (a short sleeve end, a shoulder cap, a high neck) become skin,
   shaded, while a whole old long sleeve stays as a layer; the old garment's folds (a wide
   median, so not its print) shade the new garment; ``paste_back`` keeps every other pixel of
   the original exactly.

Measured on 768x1024 VITON-HD photos on a busy 2-core machine: see ``evals/tryon.py``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tools.tryon.engine import RGB, GarmentKind, Mask, TryOnRequest, TryOnResult
from tools.tryon.garment import GarmentPoints, PreparedGarment, Sleeve, prepare_garment
from tools.tryon.person import (
    PersonPose,
    agnostic_mask,
    arm_mask,
    check_fit,
    check_person,
    hand_mask,
    head_mask,
)
from tools.tryon.post import paste_back
from tools.wardrobe.images import resize_max_side
from tools.wardrobe.segment import WORKING_SIDE, skin_mask

Points = NDArray[np.float64]

#: Grid step (px) at which the spline is evaluated before interpolation.
GRID_STEP = 8
#: Spline smoothing: a little keeps folds out of the warp where points nearly coincide.
TPS_REGULARISATION = 1e-3


# --- thin-plate spline --------------------------------------------------------------------------


def _kernel(r2: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r2 > 0, r2 * np.log(r2), 0.0)


@dataclass(frozen=True)
class ThinPlateSpline:
    """A smooth map R² → R² through control points, ``f(x) = A·[1, x, y] + Σ w_i U(|x - c_i|)``."""

    centres: Points
    weights: Points
    affine: Points
    scale: float

    @classmethod
    def fit(
        cls, source: Points, target: Points, regularisation: float = TPS_REGULARISATION
    ) -> ThinPlateSpline:
        scale = float(max(np.ptp(source, axis=0).max(), 1.0))
        c = source / scale
        n = len(c)
        d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        k = _kernel(d2) + regularisation * np.eye(n)
        p = np.hstack([np.ones((n, 1)), c])
        system = np.zeros((n + 3, n + 3))
        system[:n, :n] = k
        system[:n, n:] = p
        system[n:, :n] = p.T
        rhs = np.zeros((n + 3, 2))
        rhs[:n] = target
        solution: Points = np.asarray(np.linalg.lstsq(system, rhs, rcond=None)[0], dtype=np.float64)
        weights: Points = solution[:n]
        affine: Points = solution[n:]
        return cls(centres=c, weights=weights, affine=affine, scale=scale)

    def __call__(self, points: Points) -> Points:
        q = points / self.scale
        d2 = ((q[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        out: Points = self.affine[0] + q @ self.affine[1:] + _kernel(d2) @ self.weights
        return out


def backward_map(
    spline: ThinPlateSpline, width: int, height: int, step: int = GRID_STEP
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``cv2.remap`` maps for the full image from the spline evaluated on a coarse grid."""
    gw, gh = width // step + 2, height // step + 2
    gy, gx = np.mgrid[0:gh, 0:gw].astype(np.float64) * step
    src = spline(np.stack([gx.ravel(), gy.ravel()], axis=1))
    sx = src[:, 0].reshape(gh, gw).astype(np.float32)
    sy = src[:, 1].reshape(gh, gw).astype(np.float32)
    full_w, full_h = (gw - 1) * step + 1, (gh - 1) * step + 1
    mx = cv2.resize(sx, (full_w, full_h), interpolation=cv2.INTER_LINEAR)[:height, :width]
    my = cv2.resize(sy, (full_w, full_h), interpolation=cv2.INTER_LINEAR)[:height, :width]
    return np.ascontiguousarray(mx), np.ascontiguousarray(my)


# --- correspondences ----------------------------------------------------------------------------


def _p(point: tuple[float, float]) -> Points:
    return np.array(point, dtype=np.float64)


def _unit(v: Points) -> Points:
    return v / max(float(np.linalg.norm(v)), 1e-6)


@dataclass(frozen=True)
class _Similarity:
    """z -> a·z + b on complex numbers: scale, rotation and shift from two point pairs."""

    a: complex
    b: complex

    @classmethod
    def from_pairs(cls, g0: Points, g1: Points, t0: Points, t1: Points) -> _Similarity:
        zg0, zg1 = complex(*g0), complex(*g1)
        zt0, zt1 = complex(*t0), complex(*t1)
        a = (zt1 - zt0) / (zg1 - zg0) if zg1 != zg0 else 1.0 + 0j
        return cls(a=a, b=zt0 - a * zg0)

    def __call__(self, p: Points) -> Points:
        z = self.a * complex(*p) + self.b
        return np.array([z.real, z.imag])

    @property
    def scale(self) -> float:
        return abs(self.a)


def _body_sides(pose: PersonPose) -> tuple[str, str]:
    """(image-left, image-right) MediaPipe side names: facing the camera, the person's right
    shoulder is on the left of the photo."""
    if pose.px("right_shoulder")[0] <= pose.px("left_shoulder")[0]:
        return "right", "left"
    return "left", "right"


def _seam_targets(pose: PersonPose) -> tuple[Points, Points, Points]:
    """Where the shoulder seams go: a little outside and above the shoulder joints (the seam lies
    on top of the shoulder, the landmark in the joint). Returns (left, right, down)."""
    img_left, img_right = _body_sides(pose)
    bl, br = pose.px(f"{img_left}_shoulder"), pose.px(f"{img_right}_shoulder")
    span = pose.shoulder_span
    across = _unit(br - bl)
    down = pose.down()
    lift = -down * span * 0.07
    return bl - across * span * 0.05 + lift, br + across * span * 0.05 + lift, down


#: Torso half-width at the hips, in hip-landmark half-distances (the joints lie inside the body).
HIP_WIDTH = 1.6
#: How far (shoulder widths) a garment may stand off the person's silhouette.
SILHOUETTE_MARGIN = 0.04
#: Half-width of a sleeve on the arm, in shoulder widths, at most.
SLEEVE_HALF_WIDTH = 0.11


@dataclass(frozen=True)
class TorsoFit:
    """Where a top's torso lands: seam row, hem row, and the garment-to-body scale."""

    seam_y: float
    hem_y: float
    scale: float
    #: The armpits' row: above it the torso's shoulders lie over the sleeves' caps.
    pit_y: float = 0.0


def _row_runs(person: Mask, xc: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per row, the silhouette's extent left and right of the body's centre line (0 where the
    centre is outside the silhouette)."""
    h, w = person.shape
    left = np.zeros(h)
    right = np.zeros(h)
    for y in range(h):
        c = int(np.clip(round(float(xc[y])), 0, w - 1))
        row = person[y]
        if not row[c]:
            continue
        off_l = np.flatnonzero(~row[:c])
        off_r = np.flatnonzero(~row[c:])
        left[y] = c - (off_l[-1] + 1 if len(off_l) else 0)
        right[y] = (off_r[0] if len(off_r) else w - c) - 1
    return left, right


def _smooth_rows(values: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Running median then mean over ``k`` rows: the silhouette's jagged rows (a hand, a strand
    of hair) must not ripple the print."""
    k = max(3, k | 1)
    padded = np.pad(values, k // 2, mode="edge")
    med = np.median(np.lib.stride_tricks.sliding_window_view(padded, k), axis=1)
    padded = np.pad(med, k // 2, mode="edge")
    return np.asarray(np.convolve(padded, np.ones(k) / k, mode="valid"), dtype=np.float64)


def _shoulder_top(pose: PersonPose, tl: Points, tr: Points) -> float:
    """The row the shoulder seams sit on: the top of the silhouette above the shoulder joints
    (a seam placed lower leaves the old garment showing over the shoulders), within a fifth of
    a shoulder width above the joints."""
    span = pose.shoulder_span
    tops = []
    for side in ("left", "right"):
        joint = pose.px(f"{side}_shoulder")
        x = int(np.clip(round(float(joint[0]) * 0.8 + float(pose.px("nose")[0]) * 0.2), 0, pose.width - 1))
        lo = int(np.clip(joint[1] - span * 0.35, 0, pose.height - 1))
        hi = int(np.clip(joint[1], 0, pose.height - 1))
        col = np.flatnonzero(pose.person_mask[lo : hi + 1, x])
        tops.append(float(lo + col[0]) if len(col) else float(joint[1]) - span * 0.07)
    joints = float(pose.px("left_shoulder")[1] + pose.px("right_shoulder")[1]) / 2
    fallback = float(tl[1] + tr[1]) / 2
    return float(
        np.clip(np.mean(tops) + span * 0.02, joints - span * 0.2, max(fallback, joints - span * 0.2))
    )


def _arm_reach(
    pose: PersonPose, side: str, ys: NDArray[np.float64], xc: NDArray[np.float64], sign: int
) -> NDArray[np.float64]:
    """Per row, how far the arm's centre line (shoulder-elbow-wrist) lies from the body's
    centre line on its side; 0 on rows the arm does not cross or when it is not seen."""
    chain = arm_chain(pose, side)
    if chain is None:
        return np.zeros_like(ys)
    reach = np.zeros_like(ys)
    for a, b in itertools.pairwise(chain[:2]):  # the upper arm: a forearm stays bare
        lo, hi = sorted((float(a[1]), float(b[1])))
        if hi - lo < 1:
            continue
        rows = (ys >= lo) & (ys <= hi)
        t = (ys[rows] - a[1]) / (b[1] - a[1])
        x = a[0] + t * (b[0] - a[0])
        reach[rows] = np.maximum(reach[rows], (x - xc[rows]) * sign)
    return reach


def torso_map(
    points: GarmentPoints, pose: PersonPose
) -> tuple[NDArray[np.float32], NDArray[np.float32], TorsoFit]:
    """Backward map (photo pixel -> garment pixel) for the torso, fitted band by band.

    Rows map linearly from the shoulder seam to the hem; each row maps the garment's torso
    width onto the body's width there: shoulder seams at the top, the hips (widened from the
    hip joints) at the bottom, and never wider than the person's silhouette plus a margin. A
    top therefore follows the waist and stops at the hips instead of standing off the body
    as a rigid rectangle."""
    g = {k: _p(v) for k, v in points.points.items()}
    w, h = pose.width, pose.height
    tl, tr, _ = _seam_targets(pose)
    span = pose.shoulder_span
    lh, rh = pose.hips()
    p_seam_y = _shoulder_top(pose, tl, tr)
    # the seam row reaches over the shoulder caps, which no sleeve start covers
    p_seam_half = float(np.linalg.norm(tr - tl)) / 2 * 1.02
    hip_y = float(lh[1] + rh[1]) / 2
    torso_len = max(hip_y - p_seam_y, span * 0.5)
    hip_y = p_seam_y + torso_len
    hip_half = max(float(np.linalg.norm(lh - rh)) / 2 * HIP_WIDTH, span * 0.36)
    seam_cx, hip_cx = float(tl[0] + tr[0]) / 2, float(lh[0] + rh[0]) / 2
    g_seam_y = float(g["shoulder_left"][1] + g["shoulder_right"][1]) / 2
    g_seam_half = max(float(g["shoulder_right"][0] - g["shoulder_left"][0]) / 2, 1.0)
    g_half = max((points.torso_right - points.torso_left) / 2, 1.0)
    g_cx = (points.torso_right + points.torso_left) / 2
    g_pit_y = float(g["armpit_left"][1] + g["armpit_right"][1]) / 2
    g_hem_y = float(g["hem_left"][1] + g["hem_right"][1]) / 2
    scale = p_seam_half / g_seam_half
    natural = p_seam_y + (g_hem_y - g_seam_y) * scale
    hem_y = float(np.clip(natural, p_seam_y + 0.75 * torso_len, hip_y + 0.15 * torso_len))
    v_scale = (hem_y - p_seam_y) / max(g_hem_y - g_seam_y, 1.0)
    ys = np.arange(h, dtype=np.float64)
    gy = g_seam_y + (ys - p_seam_y) / v_scale
    f = (ys - p_seam_y) / torso_len
    xc = seam_cx + (hip_cx - seam_cx) * np.clip(f, 0, 1.2)
    # the garment's own width profile: seams at the top, the torso below the armpits
    gf = np.clip((gy - g_seam_y) / max(g_pit_y - g_seam_y, 1.0), 0, 1)
    g_row_half = g_seam_half + (g_half - g_seam_half) * gf
    # the body's: seams, then the chest (as wide as the garment's own proportions allow, within
    # the shoulders), then the hips
    p_pit_y = p_seam_y + (g_pit_y - g_seam_y) * v_scale
    chest_half = float(np.clip(p_seam_half * g_half / g_seam_half, 0.85 * p_seam_half, 1.05 * p_seam_half))
    upper = np.clip((ys - p_seam_y) / max(p_pit_y - p_seam_y, 1.0), 0, 1)
    lower = np.clip((ys - p_pit_y) / max(hip_y - p_pit_y, 1.0), 0, 1)
    model = np.where(
        ys < p_pit_y,
        p_seam_half + (chest_half - p_seam_half) * upper,
        chest_half + (hip_half - chest_half) * lower,
    )
    # Under an arm hanging beside the body the torso reaches the arm's centre line, so no strip
    # of the old garment shows between the new torso and its sleeve.
    img_left, img_right = _body_sides(pose)
    reach_l = _arm_reach(pose, img_left, ys, xc, -1)
    reach_r = _arm_reach(pose, img_right, ys, xc, 1)
    under_arm = (ys > p_pit_y - span * 0.1) & bool(points.sleeves)  # a sleeveless top shows the arm
    model_l = np.where(under_arm, np.clip(reach_l, model, model * 1.2), model)
    model_r = np.where(under_arm, np.clip(reach_r, model, model * 1.2), model)
    sil_l, sil_r = _row_runs(pose.person_mask, xc)
    margin = span * SILHOUETTE_MARGIN
    k = max(5, round(span * 0.15))
    # Over the shoulders the garment reaches the outline (the shoulder caps), or a bare shoulder
    # shows between the seam and the sleeve.
    caps = (ys >= p_seam_y) & (ys < p_pit_y) & bool(points.sleeves)
    model_l = np.where(caps, np.maximum(model_l, np.minimum(_smooth_rows(sil_l, k), model * 1.12)), model_l)
    model_r = np.where(caps, np.maximum(model_r, np.minimum(_smooth_rows(sil_r, k), model * 1.12)), model_r)
    half_l = np.clip(_smooth_rows(sil_l, k) + margin, 0.7 * model, model_l)
    half_r = np.clip(_smooth_rows(sil_r, k) + margin, 0.7 * model, model_r)
    xs = np.arange(w, dtype=np.float64)[None, :]
    dx = xs - xc[:, None]
    p_half = np.where(dx < 0, half_l[:, None], half_r[:, None])
    mx = g_cx + dx * (g_row_half[:, None] / p_half)
    my = np.broadcast_to(gy[:, None], (h, w))
    fit = TorsoFit(seam_y=p_seam_y, hem_y=hem_y, scale=scale, pit_y=p_pit_y)
    return (
        np.ascontiguousarray(mx, dtype=np.float32),
        np.ascontiguousarray(my, dtype=np.float32),
        fit,
    )


def arm_chain(pose: PersonPose, side: str) -> Points | None:
    """Shoulder, elbow and (when seen) wrist of one arm; ``None`` when the elbow is not seen,
    and the person's own arm is better than a sleeve placed by guesswork."""
    if not pose.seen(f"{side}_shoulder", f"{side}_elbow", threshold=0.3, margin=0.05):
        return None
    chain = [pose.px(f"{side}_shoulder"), pose.px(f"{side}_elbow")]
    if pose.seen(f"{side}_wrist", threshold=0.3, margin=0.05):
        chain.append(pose.px(f"{side}_wrist"))
    return np.array(chain)


def centre_arm(pose: PersonPose, chain: Points, body_x: float) -> Points:
    """The arm's chain moved onto the middle of the arm.

    Pose puts the shoulder and elbow joints towards the inside of a hanging arm; the outer edge
    of the silhouette (the inner side often merges with the torso) tells where the arm really
    is, so the chain is moved out until it lies an arm's half-width inside that edge."""
    span = pose.shoulder_span
    a, b = chain[0], chain[1]
    d = _unit(b - a)
    normal = np.array([-d[1], d[0]])
    if np.dot(normal, (a + b) / 2 - np.array([body_x, (a[1] + b[1]) / 2])) < 0:
        normal = -normal
    steps = np.arange(0, span * 0.35, 2.0)
    found = []
    for t in (0.3, 0.45, 0.6, 0.75):
        p = a + (b - a) * t
        xs = np.round(p[0] + normal[0] * steps).astype(int)
        ys = np.round(p[1] + normal[1] * steps).astype(int)
        ok = (xs >= 0) & (xs < pose.width) & (ys >= 0) & (ys < pose.height)
        inside = np.zeros(len(steps), dtype=bool)
        inside[ok] = pose.person_mask[ys[ok], xs[ok]]
        out = np.flatnonzero(~inside)
        if len(out) and out[0] > 0:
            found.append(float(steps[out[0]]))
    if len(found) < 2:
        return chain
    shift = float(np.clip(np.median(found) - SLEEVE_HALF_WIDTH * span, 0, 0.12 * span))
    moved = np.asarray(chain, dtype=np.float64).copy()
    moved[:2] += normal * shift
    if len(chain) > 2 and float(np.dot(_unit(chain[2] - chain[1]), d)) > np.cos(np.radians(25)):
        moved[2] += normal * shift  # a straight arm moves as a whole; a bent forearm keeps its wrist
    return moved


def _chain_coords(
    chain: Points, xs: NDArray[np.float64], ys: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(distance along the arm, signed distance across it) for every pixel.

    Each pixel belongs to its nearest segment; the first segment extends back past the
    shoulder and the last past its end, and pixels on the outside of the elbow (beyond both
    segments' ends) take the elbow's position along and their distance to it across, which
    fills the wedge a bent arm opens instead of tearing the sleeve."""
    best = np.full(xs.shape, np.inf)
    along = np.zeros(xs.shape)
    across = np.zeros(xs.shape)
    start = 0.0
    n = len(chain) - 1
    for i in range(n):
        a, b = chain[i], chain[i + 1]
        length = max(float(np.linalg.norm(b - a)), 1.0)
        d = (b - a) / length
        rx, ry = xs - a[0], ys - a[1]
        u = rx * d[0] + ry * d[1]
        cross = d[0] * ry - d[1] * rx
        lo = -np.inf if i == 0 else 0.0
        hi = np.inf if i == n - 1 else length
        uc = np.clip(u, lo, hi)
        dist = np.hypot(rx - uc * d[0], ry - uc * d[1])
        signed = np.where(u == uc, cross, np.sign(cross) * dist)
        closer = dist < best
        best = np.where(closer, dist, best)
        along = np.where(closer, start + uc, along)
        across = np.where(closer, signed, across)
        start += length
    return along, across


def sleeve_half_width(sleeve: Sleeve, own: Mask) -> float:
    """Half the sleeve's width across its axis, around its middle (garment px)."""
    root, cuff = _p(sleeve.root), _p(sleeve.cuff)
    g_len = max(float(np.linalg.norm(cuff - root)), 1.0)
    axis = _unit(cuff - root)
    ys, xs = np.nonzero(own)
    if len(xs) < 16:
        return sleeve.cuff_half_width
    along = (xs - root[0]) * axis[0] + (ys - root[1]) * axis[1]
    across = (xs - root[0]) * -axis[1] + (ys - root[1]) * axis[0]
    mid = (along > 0.3 * g_len) & (along < 0.7 * g_len)
    if mid.sum() < 16:
        return sleeve.cuff_half_width
    lo, hi = np.percentile(across[mid], [5, 95])
    return float(max((hi - lo) / 2, sleeve.cuff_half_width * 0.5, 1.0))


def sleeve_map(
    sleeve: Sleeve,
    chain: Points,
    scale: float,
    span: float,
    box: tuple[int, int, int, int],
    half_width: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Backward map for one sleeve over ``box`` (x0, y0, x1, y1 of the photo): the garment's
    sleeve axis is laid along the arm's shoulder-elbow-wrist chain, as long as the garment
    makes it (a short sleeve ends on the upper arm, a long one at the wrist at most) and as
    wide as the arm can wear."""
    root, cuff = _p(sleeve.root), _p(sleeve.cuff)
    g_len = max(float(np.linalg.norm(cuff - root)), 1.0)
    axis = _unit(cuff - root)
    normal = np.array([-axis[1], axis[0]])
    arm_len = float(sum(np.linalg.norm(chain[i + 1] - chain[i]) for i in range(len(chain) - 1)))
    length = min(g_len * scale, arm_len * 1.02)
    if length > 0.75 * arm_len:
        length = arm_len  # a long sleeve ends at the wrist, whatever the garment's proportions
    along_scale = length / g_len
    across_scale = min(scale, SLEEVE_HALF_WIDTH * 1.15 * span / max(half_width, 1.0))
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    t, d = _chain_coords(chain, xs, ys)
    # the sleeve's cap beyond the shoulder joint is the torso's: it must not climb the neck
    t = np.where(t < -0.1 * span, -1e4, t)
    gx = root[0] + axis[0] * (t / along_scale) + normal[0] * (d / across_scale)
    gy = root[1] + axis[1] * (t / along_scale) + normal[1] * (d / across_scale)
    return gx.astype(np.float32), gy.astype(np.float32)


def box_pairs(points: GarmentPoints, pose: PersonPose, kind: GarmentKind) -> tuple[Points, Points]:
    """(garment points, body points) for trousers, skirts and dresses, from bounding geometry."""
    g = {k: _p(v) for k, v in points.points.items()}
    lh, rh = pose.hips()
    img_left, _ = _body_sides(pose)
    if img_left == "left":
        lh, rh = rh, lh
    hips_l, hips_r = (lh, rh) if lh[0] <= rh[0] else (rh, lh)
    down = pose.down()
    if kind == "dress":
        tl, tr, _ = _seam_targets(pose)
        span = float(np.linalg.norm(tr - tl))
        tl, tr = tl + (tr - tl) * 0.12, tr - (tr - tl) * 0.12  # straps sit inside the shoulders
        del span
    else:
        hip_w = max(float(np.linalg.norm(hips_r - hips_l)) * 1.6, pose.shoulder_span * 0.8)
        centre = (hips_l + hips_r) / 2 - down * pose.shoulder_span * 0.25
        across = _unit(hips_r - hips_l)
        tl, tr = centre - across * hip_w / 2, centre + across * hip_w / 2
    sim = _Similarity.from_pairs(g["waist_left"], g["waist_right"], tl, tr)
    src = [g[k] for k in g]
    dst = [tl, tr] + [sim(g[k]) for k in g if k not in ("waist_left", "waist_right")]
    return np.array(src), np.array(dst)


# --- compositing --------------------------------------------------------------------------------


def _resize_mask(mask: Mask, width: int, height: int) -> Mask:
    if mask.shape == (height, width):
        return mask
    return np.asarray(
        cv2.resize(mask.astype(np.uint8) * 255, (width, height), interpolation=cv2.INTER_LINEAR) > 127
    )


def _smooth_within(
    values: NDArray[np.float32], weight: NDArray[np.float32], sigma: float
) -> NDArray[np.float32]:
    """Gaussian mean of ``values`` over the weighted pixels only (normalised convolution)."""
    num = cv2.GaussianBlur(values * weight, (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return np.asarray(num / np.maximum(den, 1e-4), dtype=np.float32)


def shading_ratio(person: RGB, old: Mask, span: float) -> NDArray[np.float32]:
    """Low-frequency lightness of the old garment relative to its median: the folds and shadows
    of the photo, not its print. A wide median first removes prints, lace and logos (which a
    blur alone would leave as ghosts), and the ratio is clipped so a dark print cannot stamp a
    shadow on the new garment."""
    h, w = old.shape
    if old.sum() < 64:
        return np.ones(old.shape, dtype=np.float32)
    small_side = 256
    f = small_side / max(h, w)
    sw, sh = max(1, round(w * f)), max(1, round(h * f))
    grey = cv2.resize(cv2.cvtColor(person, cv2.COLOR_RGB2GRAY), (sw, sh), interpolation=cv2.INTER_AREA)
    weight = np.asarray(
        cv2.resize(old.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA), dtype=np.float32
    )
    k = max(3, round(span * f * 0.12) | 1)
    filtered = cv2.medianBlur(grey, min(k, 31)).astype(np.float32) + 8.0
    smooth = _smooth_within(filtered, weight, max(1.5, span * f * 0.06))
    inside = weight > 0.5
    ref = float(np.median(smooth[inside])) if inside.any() else float(np.median(smooth))
    ratio = np.clip(smooth / max(ref, 1.0), 0.75, 1.12) ** 0.8
    presence = np.clip(cv2.GaussianBlur(weight, (0, 0), max(1.5, span * f * 0.05)) * 2, 0, 1)
    small = 1 + (ratio - 1) * presence
    return np.asarray(
        cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.float32
    )


def hair_mask(rgb: RGB, pose: PersonPose, head: Mask) -> Mask:
    """Hair that falls over the shoulders, which stays in front of a new top.

    The hair's colour is sampled at the top of the head (inside the silhouette, above the
    eyes); pixels of that colour connected to the head, down to a little below the shoulders,
    are hair. When the old top has the hair's colour (black hair, black top) only what lies
    above the shoulder line is kept, or the old top would be kept as "hair"."""
    h, w = rgb.shape[:2]
    f = 256 / max(h, w)
    sw, sh = max(1, round(w * f)), max(1, round(h * f))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    person = cv2.resize(pose.person_mask.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
    head_s = cv2.resize(head.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
    eye_y = float(min(pose.px("left_eye")[1], pose.px("right_eye")[1])) * f
    span = pose.shoulder_span * f
    rows = np.arange(sh)[:, None]
    sample = person & head_s & (rows < eye_y - span * 0.08)
    if sample.sum() < 12:
        return np.zeros((h, w), dtype=bool)
    colour = np.median(lab[sample], axis=0)
    spread = np.maximum(np.percentile(np.abs(lab[sample] - colour), 70, axis=0), [10.0, 4.0, 4.0])
    z = np.abs(lab - colour) / (spread * np.array([2.5, 2.0, 2.0], dtype=np.float32))
    similar = np.all(z < 1.0, axis=2) & person
    shoulder_y = float(pose.px("left_shoulder")[1] + pose.px("right_shoulder")[1]) / 2 * f
    chest = (pose.px("left_shoulder") + pose.px("right_shoulder")) / 2 * f + pose.down() * span * 0.6
    cx, cy = round(float(chest[0])), round(float(chest[1]))
    top_colour = lab[max(0, cy - 2) : cy + 3, max(0, cx - 2) : cx + 3].reshape(-1, 3)
    limit = shoulder_y + span * 0.9
    if len(top_colour) and np.all(np.abs(np.median(top_colour, axis=0) - colour) < spread * 2.5):
        limit = shoulder_y - span * 0.05
    similar &= rows < limit
    count, labels = cv2.connectedComponents(similar.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[similar & head_s])
    touching = touching[touching > 0]
    hair = np.isin(labels, touching) & ~head_s if count > 1 and len(touching) else np.zeros_like(similar)
    hair = cv2.morphologyEx(hair.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return np.asarray(cv2.resize(hair * 255, (w, h), interpolation=cv2.INTER_LINEAR) > 127)


#: Least Lab a* (red-green) a pixel needs to count as skin.
SKIN_REDNESS = 6


@dataclass(frozen=True)
class _Layers:
    person: Mask
    skin: Mask
    head: Mask
    hands: Mask
    arms: Mask
    forearms: Mask
    hair: Mask


def _forearm_mask(pose: PersonPose) -> Mask:
    """Bands from the elbows to the wrists: the part of an arm that crosses in front of the body."""
    canvas = np.zeros((pose.height, pose.width), dtype=np.uint8)
    t = max(1, round(pose.shoulder_span * 0.3))
    for side in ("left", "right"):
        if pose.landmarks[f"{side}_elbow"][2] >= 0.3 and pose.landmarks[f"{side}_wrist"][2] >= 0.3:
            a, b = pose.px(f"{side}_elbow"), pose.px(f"{side}_wrist")
            cv2.line(
                canvas,
                (round(float(a[0])), round(float(a[1]))),
                (round(float(b[0])), round(float(b[1]))),
                1,
                t,
            )
    return np.asarray(canvas > 0)


def _layers(rgb: RGB, pose: PersonPose) -> _Layers:
    h, w = rgb.shape[:2]
    work = resize_max_side(rgb, WORKING_SIDE)
    skin = skin_mask(work, pose.landmarks)
    # skin has colour: a pale face lets greys and creams through the face-colour test, and a
    # grey sleeve taken for a bare arm would be kept in front of the new garment
    redness = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 1].astype(np.int16) - 128
    skin_full = _resize_mask(skin, w, h) & (redness >= SKIN_REDNESS)
    head = head_mask(pose)
    return _Layers(
        person=pose.person_mask,
        skin=skin_full & pose.person_mask,
        head=head,
        hands=hand_mask(pose),
        arms=arm_mask(pose, thickness=0.42),
        forearms=_forearm_mask(pose),
        hair=hair_mask(rgb, pose, head) & ~skin_full,
    )


def old_colour_distance(person: RGB, pose: PersonPose, layers: _Layers) -> NDArray[np.float32] | None:
    """Every pixel's colour distance (Lab, lightness down-weighted for folds and shadows) to the
    old garment's, sampled on the chest; ``None`` when the chest shows no garment."""
    h, w = person.shape[:2]
    span = pose.shoulder_span
    chest = (pose.px("left_shoulder") + pose.px("right_shoulder")) / 2 + pose.down() * span * 0.45
    r = max(3, round(span * 0.12))
    cx, cy = int(np.clip(chest[0], 0, w - 1)), int(np.clip(chest[1], 0, h - 1))
    win = (slice(max(0, cy - r), cy + r), slice(max(0, cx - r), cx + r))
    sample_ok = layers.person[win] & ~layers.skin[win] & ~layers.hands[win]
    if sample_ok.sum() < 16:
        return None
    lab = cv2.cvtColor(person, cv2.COLOR_RGB2LAB).astype(np.float32)
    colour = np.median(lab[win][sample_ok], axis=0)
    diff = lab - colour
    distance = np.sqrt((diff[..., 0] * 0.35) ** 2 + diff[..., 1] ** 2 + diff[..., 2] ** 2)
    return np.asarray(distance, dtype=np.float32)


def old_garment_bare_zone(person: RGB, pose: PersonPose, layers: _Layers) -> Mask:
    """Pixels of the *old* garment where a body part would show if it were taken off: sleeves on
    the arms, over the shoulder caps and up the neck (a turtleneck under a crew neck).

    They are found by colour: the old garment's colour is sampled on the chest, and arm, shoulder
    and neck pixels of about that colour (lightness may vary, with folds) are old garment; skin,
    hair, hands and the background never are."""
    h, w = person.shape[:2]
    span = pose.shoulder_span
    distance = old_colour_distance(person, pose, layers)
    if distance is None:
        return np.zeros((h, w), dtype=bool)
    similar = distance < 22
    zone = np.zeros((h, w), dtype=np.uint8)
    zone |= arm_mask(pose, thickness=0.45).astype(np.uint8)
    lh, rh = pose.hips()
    zone[max(0, round(float(min(lh[1], rh[1])))) :] = 0  # trousers of the old top's colour stay
    for side in ("left", "right"):
        sx, sy = pose.px(f"{side}_shoulder")
        cv2.circle(zone, (round(float(sx)), round(float(sy))), round(span * 0.22), 1, -1)
    neck_top = pose.px("nose") + pose.down() * span * 0.2
    neck_bottom = (pose.px("left_shoulder") + pose.px("right_shoulder")) / 2
    cv2.line(
        zone,
        (round(float(neck_top[0])), round(float(neck_top[1]))),
        (round(float(neck_bottom[0])), round(float(neck_bottom[1]))),
        1,
        max(1, round(span * 0.3)),
    )
    k = max(3, round(span * 0.02) | 1)
    body = cv2.dilate(layers.person.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    keep_out = layers.skin | layers.hands | layers.head | layers.hair
    return np.asarray((zone > 0) & body & similar & ~keep_out)


#: Largest piece of uncovered old garment (in square shoulder widths) that is painted as skin.
MAX_FILL = 0.15


def _small_parts(removed: Mask, span: float) -> Mask:
    """Only the small pieces: an old short sleeve peeking out under a new shorter one, a
    shoulder cap beside a strap, a turtleneck above a crew neck. A whole old long sleeve under a
    new short-sleeved top is left as it is, which reads as a layered outfit; a whole arm
    repainted in flat skin tone does not read as an arm."""
    if not removed.any():
        return removed
    # pieces a little apart (a pale sleeve the segmenter broke up) are one piece
    k = max(3, round(span * 0.08) | 1)
    grouped = cv2.dilate(removed.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    count, labels = cv2.connectedComponents(grouped, connectivity=8)
    areas = np.bincount(labels[removed], minlength=count)
    small = np.flatnonzero(areas <= MAX_FILL * span * span)
    small = small[small > 0]
    return np.asarray(removed & np.isin(labels, small))


def _fill_removed(
    person: RGB, removed: Mask, layers: _Layers, shading: NDArray[np.float32], span: float
) -> RGB:
    """Paint bare skin over old-garment pixels the new garment leaves uncovered (an old long
    sleeve under a new short one): the wearer's skin tone, shaded by the old garment's own
    low-frequency lightness and darkened towards the filled region's edges, so an arm keeps
    its roundness instead of looking like a flat cut-out."""
    out = person.copy()
    if not removed.any():
        return out
    bare = layers.skin & ~layers.head
    source = bare if bare.sum() > 32 else layers.skin
    if source.sum() <= 32:
        return out
    tone = np.median(person[source], axis=0).astype(np.float32)
    inside = cv2.distanceTransform(removed.astype(np.uint8), cv2.DIST_L2, 3)
    round_off = 0.84 + 0.16 * np.clip(inside / max(span * 0.07, 1.0), 0, 1)
    factor = shading * round_off
    painted = np.clip(tone[None, :] * factor[removed][:, None], 0, 255)
    out[removed] = painted.astype(np.uint8)
    # soften the fill's outline into its surroundings
    soft = cv2.GaussianBlur(out, (0, 0), 1.2)
    edge = removed & (inside < 3)
    out[edge] = soft[edge]
    return out


def solid_silhouette(person: Mask, span: float) -> Mask:
    """The silhouette without its holes and slits: a garment the colour of the studio wall
    (light grey on light grey) comes out of the person segmenter with gaps, which must not cut
    holes in the new garment."""
    k = max(3, round(span * 0.1) | 1)
    closed = cv2.morphologyEx(
        person.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    )
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(closed)
    cv2.drawContours(filled, contours, -1, 1, -1)
    return np.asarray(filled > 0)


def _between_arms(pose: PersonPose) -> Mask:
    """The body between the upper arms and down to the hips: always the person, even where a
    garment the colour of the wall made the segmenter see background there."""
    img_left, img_right = _body_sides(pose)
    lh, rh = pose.hips()
    hip_l, hip_r = (lh, rh) if img_left == "left" else (rh, lh)
    pts = []
    for side, hip in ((img_left, hip_l), (img_right, hip_r)):
        chain = arm_chain(pose, side)
        arm = [pose.px(f"{side}_shoulder")] if chain is None else [chain[0], chain[1]]
        pts.append([*arm, hip])
    polygon = np.array(pts[0] + pts[1][::-1])
    canvas = np.zeros((pose.height, pose.width), dtype=np.uint8)
    cv2.fillPoly(canvas, [np.round(polygon).astype(np.int32)], 1)
    return np.asarray(canvas > 0)


class GeometricEngine:
    """Thin-plate-spline garment warp and compositing on the CPU; no model, deterministic."""

    name = "geometric-cpu"

    def __init__(self, feather_px: float = 2.0) -> None:
        self.feather_px = feather_px

    def run(self, request: TryOnRequest) -> TryOnResult:
        timings: dict[str, float] = {}
        started = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal started
            now = time.perf_counter()
            timings[stage] = round((now - started) * 1000, 1)
            started = now

        person = np.ascontiguousarray(request.person)
        h, w = person.shape[:2]
        pose = check_person(person)
        check_fit(pose, request.kind)
        agnostic = request.agnostic if request.agnostic is not None else agnostic_mask(pose, request.kind)
        agnostic = _resize_mask(np.asarray(agnostic, dtype=bool), w, h)
        lap("person")
        garment = prepare_garment(request.garment, request.garment_mask, request.kind)
        lap("garment")
        warped, alpha, parts = self.warp(garment, pose, request.kind)
        lap("warp")
        image, region = self.composite(person, pose, agnostic, warped, alpha, parts)
        lap("composite")
        return TryOnResult(image=image, engine=self.name, garment_region=region, timings_ms=timings)

    def warp(
        self, garment: PreparedGarment, pose: PersonPose, kind: GarmentKind
    ) -> tuple[RGB, NDArray[np.float32], NDArray[np.uint8]]:
        """The garment's colours, coverage (0..1) and parts, moved onto the body, photo-sized."""
        if kind != "upper":
            src, dst = box_pairs(garment.keypoints, pose, kind)
            spline = ThinPlateSpline.fit(dst, src)
            mx, my = backward_map(spline, pose.width, pose.height)
            alpha = cv2.remap(
                garment.mask.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
            )
            rgb = cv2.remap(garment.rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            box_rgb = np.asarray(rgb, dtype=np.uint8)
            return box_rgb, np.asarray(alpha, dtype=np.float32), np.where(alpha > 0.5, 1, 0).astype(np.uint8)
        mx, my, fit = torso_map(garment.keypoints, pose)
        body = (garment.parts == 1).astype(np.float32)
        rgb = cv2.remap(garment.rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(
            np.float32
        )
        alpha = cv2.remap(body, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        torso_rgb, torso_alpha = rgb.copy(), alpha.copy()
        parts = np.where(alpha > 0.5, 1, 0).astype(np.uint8)
        img_left, img_right = _body_sides(pose)
        split = (garment.keypoints.torso_left + garment.keypoints.torso_right) / 2
        gx = np.arange(garment.mask.shape[1])[None, :]
        span = pose.shoulder_span
        body_x = float(pose.px("left_shoulder")[0] + pose.px("right_shoulder")[0]) / 2
        for g_side, body_side in (("left", img_left), ("right", img_right)):
            sleeve = garment.keypoints.sleeves.get(g_side)
            chain = arm_chain(pose, body_side)
            if sleeve is None or chain is None:
                continue
            chain = centre_arm(pose, chain, body_x)
            own = (garment.parts == 2) & ((gx < split) if g_side == "left" else (gx >= split))
            pad = span * 0.45
            x0 = int(np.clip(chain[:, 0].min() - pad, 0, pose.width))
            x1 = int(np.clip(chain[:, 0].max() + pad, 0, pose.width))
            y0 = int(np.clip(chain[:, 1].min() - pad, 0, pose.height))
            y1 = int(np.clip(chain[:, 1].max() + pad, 0, pose.height))
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            sx, sy = sleeve_map(
                sleeve,
                chain,
                fit.scale,
                span,
                (x0, y0, x1, y1),
                sleeve_half_width(sleeve, own),
            )
            a = cv2.remap(own.astype(np.float32), sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            c = cv2.remap(garment.rgb, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            win = (slice(y0, y1), slice(x0, x1))
            rgb[win] = rgb[win] * (1 - a[..., None]) + c.astype(np.float32) * a[..., None]
            alpha[win] = np.maximum(alpha[win], a)
            parts[win][a > 0.5] = 2
        # Over the shoulders the torso lies on top, so a sleeve starts at the shoulder seam
        # instead of showing its cap's edge across the shoulder.
        ramp = np.clip(
            (fit.pit_y - np.arange(pose.height, dtype=np.float32)) / (pose.shoulder_span * 0.3), 0, 1
        )
        ta = (torso_alpha * ramp[:, None])[..., None]
        rgb = torso_rgb * ta + rgb * (1 - ta)
        parts[ta[..., 0] > 0.5] = 1
        return (
            np.clip(rgb, 0, 255).astype(np.uint8),
            np.asarray(alpha, dtype=np.float32),
            parts,
        )

    def composite(
        self,
        person: RGB,
        pose: PersonPose,
        agnostic: Mask,
        warped: RGB,
        alpha: NDArray[np.float32],
        parts: NDArray[np.uint8],
    ) -> tuple[RGB, Mask]:
        layers = _layers(person, pose)
        span = pose.shoulder_span
        # The garment stays on the person: at most a small margin off the silhouette.
        k = max(3, round(span * SILHOUETTE_MARGIN * 2) | 1)
        grown = cv2.dilate(
            solid_silhouette(layers.person, span).astype(np.uint8),
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)),
        )
        body = (grown > 0) | _between_arms(pose)
        # In front of the new garment: the head, hair over the shoulders, the hands, and bare
        # forearms over the torso; a new sleeve covers the arm it dresses.
        # Bare upper arms stay in front only of a sleeveless top; under a sleeved one the torso
        # reaches beneath them and their skin there is the old garment's armhole.
        bare_arm = layers.forearms if (parts == 2).any() else layers.arms
        in_front = layers.head | layers.hair | layers.hands | (layers.skin & bare_arm & (parts != 2))
        cover = alpha * (~in_front & body).astype(np.float32)
        cover = cv2.GaussianBlur(cover, (0, 0), 0.8)
        cover[layers.head] = 0.0
        old = agnostic & layers.person & ~layers.skin & ~layers.head & ~layers.hands & ~layers.hair
        # Shading comes from the old garment only, not from trousers inside the agnostic region
        # (dark jeans would print a dark band across the new top's hem).
        distance = old_colour_distance(person, pose, layers)
        if distance is not None and (old & (distance < 30)).sum() > 0.4 * old.sum():
            old = old & (distance < 30)
        shading = shading_ratio(person, old, span)
        # Old sleeves the new garment leaves bare become arm; elsewhere the old garment stays
        # (a hem longer than the new top's reads as a layer, an inpainted smear does not).
        removed = _small_parts(
            old_garment_bare_zone(person, pose, layers) & (cover < 0.5) & (parts == 0), span
        )
        base = _fill_removed(person, removed, layers, shading, span)
        shaded = np.clip(warped.astype(np.float32) * shading[..., None], 0, 255)
        c = cover[..., None]
        composed = np.clip(base.astype(np.float32) * (1 - c) + shaded * c, 0, 255).round().astype(np.uint8)
        changed = (cover > 0.01) | removed
        image = paste_back(person, composed, changed, self.feather_px)
        return image, np.asarray(cover > 0.5)
