"""Separating the garment (or shoe, bag, ...) from its background.

Two kinds of photo reach the wardrobe: *flat-lays and product shots* (one item on a plain,
often slightly vignetted background) and *worn garments* (a person wearing the piece). They
need different cuts, so ``PersonAwareSegmenter`` first asks MediaPipe Pose whether a person
with visible shoulders is in the picture:

* **person**: MediaPipe SelfieSegmentation gives the person's silhouette; the garment is the
  part of it inside the clothing area implied by the landmarks (the torso from shoulders to
  just below the hips, widened for sleeves, plus the legs when the knees are visible), minus
  pixels the colour of the wearer's skin (sampled on the face between eyes and mouth). Face,
  hair, neck and bare arms therefore drop out, which is what keeps skin tones out of the
  garment's colour.
* **classical** (everything else): the background colour(s) are estimated from the image
  border (k-means on the border, plus a smooth quadratic fit for studio vignettes); the border
  that matches them is sure background, pixels far from it are probable foreground, and
  ``cv2.grabCut`` refines that in three iterations before a morphological clean-up keeps the
  largest components. Nothing distinct from the background (a flat or almost empty picture)
  is rejected as ``no_garment``.
* **model-server**: ``HttpSegmenter`` hands the cut to a segmentation server (a human-parsing
  model on a GPU node) over HTTP, so a better model can replace the embedded default.

Everything runs on a working copy no longer than 512 px and masks are scaled back to the
input size. Measured on this repository's 256-px catalogue thumbnails (2-core CPU, one
thread, 40 thumbnails): classical (GrabCut) median ~200 ms per image (120-290 ms), person
path median ~75 ms (pose + selfie segmentation + cut, 58-118 ms) plus a one-off ~2 s to
build the MediaPipe graphs on first use. A product photo pays for the pose check (~20 ms)
before its classical cut.
"""

from __future__ import annotations

import io
import itertools
import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import httpx
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from skimage.color import rgb2lab

from core.telemetry import outgoing
from tools.wardrobe.images import RGB, ImageRejected, resize_max_side

logger = logging.getLogger(__name__)

Mask = NDArray[np.bool_]

#: Long side of the copy every segmenter works on.
WORKING_SIDE = 512
#: Below this mask fraction nothing garment-sized was found.
MIN_COVERAGE = 0.015


@dataclass(frozen=True)
class Segmentation:
    mask: Mask
    method: str
    person: bool
    coverage: float
    garment_box: tuple[int, int, int, int]


class Segmenter(Protocol):
    def segment(self, rgb: RGB) -> Segmentation: ...


def _no_garment() -> ImageRejected:
    return ImageRejected(
        "no_garment",
        "No garment stands out from the background in this photo. Please photograph the item "
        "on its own, filling most of the frame, against a plain background of a different colour.",
    )


def _finish(mask: Mask, shape: tuple[int, ...], method: str, person: bool) -> Segmentation:
    """Scale the working mask back to the input size and describe it."""
    h, w = int(shape[0]), int(shape[1])
    if mask.shape != (h, w):
        resized = cv2.resize(mask.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR)
        mask = np.asarray(resized > 127)
    coverage = float(mask.mean())
    if coverage < MIN_COVERAGE:
        raise _no_garment()
    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return Segmentation(mask=mask, method=method, person=person, coverage=coverage, garment_box=box)


def _keep_large_components(mask: Mask, min_fraction_of_largest: float = 0.15) -> Mask:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= areas.max() * min_fraction_of_largest) + 1
    return np.asarray(np.isin(labels, keep))


def _clean(mask: Mask, side: int) -> Mask:
    k = max(3, (side // 100) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)
    return _keep_large_components(np.asarray(m > 0))


class ClassicalSegmenter:
    """GrabCut seeded from the border: the embedded default for product shots and flat-lays."""

    def __init__(self, iterations: int = 3, foreground_distance: float = 18.0) -> None:
        self.iterations = iterations
        self.foreground_distance = foreground_distance

    def segment(self, rgb: RGB) -> Segmentation:
        work = resize_max_side(rgb, WORKING_SIDE)
        return _finish(self.cut(work), rgb.shape, "grabcut", person=False)

    def background_distance(self, work: RGB) -> NDArray[np.float32]:
        """Per-pixel CIELAB distance to the nearest background estimate."""
        h, w = work.shape[:2]
        lab = rgb2lab(work).astype(np.float32)
        b = max(2, min(h, w) // 64)
        border = np.zeros((h, w), dtype=bool)
        border[:b, :] = border[-b:, :] = True
        border[:, :b] = border[:, -b:] = True
        samples = lab[border]
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
        cv2.setRNGSeed(7)
        _, labels, centres = cv2.kmeans(samples, 3, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
        shares = np.bincount(labels.ravel(), minlength=3) / len(labels)
        bg_centres = centres[shares >= 0.2]
        flat = lab.reshape(-1, 3)
        dist = np.min(np.linalg.norm(flat[:, None, :] - bg_centres[None, :, :], axis=2), axis=1)
        # A quadratic surface through the background-coloured border follows studio vignettes,
        # which single colours miss in the corners.
        main = labels.ravel() == int(np.argmax(shares))
        ys, xs = np.nonzero(border)
        yy, xx = ys[main] / h, xs[main] / w
        design = np.stack([np.ones_like(xx), xx, yy, xx * yy, xx**2, yy**2], axis=1)
        coef, *_ = np.linalg.lstsq(design, samples[main], rcond=None)
        gy, gx = np.mgrid[0:h, 0:w]
        full = np.stack(
            [
                np.ones(h * w),
                (gx / w).ravel(),
                (gy / h).ravel(),
                (gx * gy / (w * h)).ravel(),
                (gx / w).ravel() ** 2,
                (gy / h).ravel() ** 2,
            ],
            axis=1,
        )
        surface = full @ coef
        dist = np.minimum(dist, np.linalg.norm(flat - surface, axis=1))
        return np.asarray(dist.reshape(h, w), dtype=np.float32)

    def cut(self, work: RGB) -> Mask:
        h, w = work.shape[:2]
        if float(work.reshape(-1, 3).std(axis=0).max()) < 2.0:
            raise _no_garment()
        dist = self.background_distance(work)
        far = dist > self.foreground_distance
        if far.mean() < MIN_COVERAGE / 2:
            raise _no_garment()
        gc = np.full((h, w), cv2.GC_PR_BGD, dtype=np.uint8)
        gc[far] = cv2.GC_PR_FGD
        gc[dist > self.foreground_distance * 2.5] = cv2.GC_PR_FGD
        b = max(2, min(h, w) // 64)
        edge = np.zeros((h, w), dtype=bool)
        edge[:b, :] = edge[-b:, :] = True
        edge[:, :b] = edge[:, -b:] = True
        gc[edge & (dist < self.foreground_distance / 2)] = cv2.GC_BGD
        bgd = np.zeros((1, 65), np.float64)
        fgd = np.zeros((1, 65), np.float64)
        try:
            cv2.grabCut(work, gc, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)  # type: ignore[call-overload]
        except cv2.error as exc:  # one of the two models had no pixels
            raise _no_garment() from exc
        mask = np.asarray((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD))
        return _clean(mask, max(h, w))


# --- person-aware -------------------------------------------------------------------------------

_POSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

Landmarks = dict[str, tuple[float, float, float]]


class _MediaPipe:
    """One pose graph and one selfie-segmentation graph per process, used under a lock.

    MediaPipe graphs are not thread-safe, and building them costs ~0.3 s, so they are built
    once on first use and shared.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pose: Any = None
        self._selfie: Any = None

    def _ensure(self) -> None:
        if self._pose is None:
            import mediapipe as mp  # type: ignore[import-untyped]  # heavy; only when a photo needs it

            self._pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
            self._selfie = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)

    def landmarks(self, rgb: RGB) -> Landmarks | None:
        with self._lock:
            self._ensure()
            result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return None
        points = result.pose_landmarks.landmark
        return {
            name: (float(p.x), float(p.y), float(p.visibility))
            for name, p in zip(_POSE_NAMES, points, strict=True)
        }

    def person_mask(self, rgb: RGB) -> NDArray[np.float32]:
        with self._lock:
            self._ensure()
            result = self._selfie.process(np.ascontiguousarray(rgb))
        return np.asarray(result.segmentation_mask, dtype=np.float32)


_MP = _MediaPipe()


def person_landmarks(rgb: RGB) -> Landmarks | None:
    """Named pose landmarks (normalised x, y, visibility) of the one person MediaPipe finds, if any."""
    return _MP.landmarks(resize_max_side(rgb, WORKING_SIDE))


def _px(lm: Landmarks, name: str, w: int, h: int) -> NDArray[np.float64]:
    x, y, _ = lm[name]
    return np.array([x * w, y * h])


def _visible(lm: Landmarks, *names: str, threshold: float = 0.5) -> bool:
    return all(lm[n][2] >= threshold for n in names)


def clothing_region(lm: Landmarks, w: int, h: int) -> Mask:
    """Where clothes can be, from the skeleton: torso, sleeves and (when the knees show) legs."""
    region = np.zeros((h, w), dtype=np.uint8)
    ls, rs = _px(lm, "left_shoulder", w, h), _px(lm, "right_shoulder", w, h)
    span = float(np.linalg.norm(ls - rs))
    across = (ls - rs) / max(span, 1.0)
    down = np.array([-across[1], across[0]])
    if down[1] < 0:
        down = -down
    if _visible(lm, "left_hip", "right_hip", threshold=0.3):
        lh, rh = _px(lm, "left_hip", w, h), _px(lm, "right_hip", w, h)
    else:  # hips out of frame: a torso is about 1.3 shoulder widths long
        lh, rh = ls + down * span * 1.3, rs + down * span * 1.3
    torso_len = float(np.linalg.norm((lh + rh) / 2 - (ls + rs) / 2))
    hem = down * torso_len * 0.12
    widen = across * span * 0.18
    collar = -down * span * 0.08
    polygon = np.array([ls + widen + collar, lh + widen + hem, rh - widen + hem, rs - widen + collar])
    cv2.fillPoly(region, [np.round(polygon).astype(np.int32)], 1)
    thickness = max(2, round(span * 0.32))
    for side in ("left", "right"):
        chain = [f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"]
        for a, b in itertools.pairwise(chain):
            if _visible(lm, a, b, threshold=0.3):
                p, q = _px(lm, a, w, h), _px(lm, b, w, h)
                cv2.line(region, tuple(np.round(p).astype(int)), tuple(np.round(q).astype(int)), 1, thickness)
        if _visible(lm, f"{side}_knee", threshold=0.5):
            legs = [f"{side}_hip", f"{side}_knee", f"{side}_ankle"]
            for a, b in itertools.pairwise(legs):
                if _visible(lm, a, b, threshold=0.3):
                    p, q = _px(lm, a, w, h), _px(lm, b, w, h)
                    cv2.line(
                        region, tuple(np.round(p).astype(int)), tuple(np.round(q).astype(int)), 1, thickness
                    )
    return np.asarray(region > 0)


def skin_mask(work: RGB, lm: Landmarks, lab: NDArray[np.float32] | None = None) -> Mask:
    """Pixels the colour of the wearer's face, sampled between the eyes and the mouth."""
    h, w = work.shape[:2]
    lab = rgb2lab(work).astype(np.float32) if lab is None else lab
    pts = np.array([_px(lm, n, w, h) for n in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")])
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    x0, x1 = max(0, x0), min(w, max(x1, x0 + 2))
    y0, y1 = max(0, y0), min(h, max(y1, y0 + 2))
    patch = lab[y0:y1, x0:x1].reshape(-1, 3)
    if len(patch) < 4:
        return np.zeros((h, w), dtype=bool)
    centre = np.median(patch, axis=0)
    spread = np.maximum(np.percentile(np.abs(patch - centre), 80, axis=0), [6.0, 4.0, 4.0])
    # Skin varies mostly in lightness (shading); its chroma stays close to the face's.
    z = np.abs(lab - centre) / (spread * np.array([2.5, 2.0, 2.0]))
    return np.asarray(np.all(z < 1.0, axis=2))


class PersonAwareSegmenter:
    """Worn garments are cut from the person; anything else goes to ``fallback``."""

    def __init__(self, fallback: Segmenter | None = None, shoulder_visibility: float = 0.6) -> None:
        self.fallback = fallback or ClassicalSegmenter()
        self.shoulder_visibility = shoulder_visibility

    def segment(self, rgb: RGB) -> Segmentation:
        worn = self.cut_worn(rgb, person_landmarks(rgb))
        return worn if worn is not None else self.fallback.segment(rgb)

    def cut_worn(self, rgb: RGB, lm: Landmarks | None) -> Segmentation | None:
        """The garment cut from the person ``lm`` found in ``rgb`` (``person_landmarks``), or
        ``None`` when nobody with visible shoulders wears anything garment-sized there. Callers
        that already hold the landmarks pass them, so pose runs once per photo."""
        if lm is None or not _visible(
            lm, "left_shoulder", "right_shoulder", threshold=self.shoulder_visibility
        ):
            return None
        work = resize_max_side(rgb, WORKING_SIDE)
        h, w = work.shape[:2]
        person = _MP.person_mask(work) > 0.5
        garment = person & clothing_region(lm, w, h)
        if _visible(lm, "nose", "left_eye", "right_eye", threshold=0.5):
            garment &= ~skin_mask(work, lm)
        garment = _clean(garment, max(h, w))
        if garment.mean() < MIN_COVERAGE:
            return None
        return _finish(garment, rgb.shape, "person", person=True)


def default_segmenter() -> Segmenter:
    return PersonAwareSegmenter()


# --- model server -------------------------------------------------------------------------------


class HttpSegmenter:
    """A segmentation model server: ``POST {base_url}/v1/segment`` with the photo as PNG.

    The server answers with a PNG mask the size of the photo (white = garment) and
    ``X-Segment-Person: 1`` when the garment is worn. Errors surface as ``httpx`` exceptions so
    the caller can fall back to the embedded segmenter.
    """

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def segment(self, rgb: RGB) -> Segmentation:
        work = resize_max_side(rgb, WORKING_SIDE)
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(work), "RGB").save(buf, "PNG")
        url = f"{self.base_url}/v1/segment"
        with outgoing("segment", "POST", url) as call:  # a client span + traceparent while tracing
            response = httpx.post(
                url,
                files={"image": ("image.png", buf.getvalue(), "image/png")},
                timeout=self.timeout_s,
                headers=call.headers,
            )
            call.record(response)
        if response.status_code == 422 and _error_code(response) == "no_garment":
            raise _no_garment()
        response.raise_for_status()
        with Image.open(io.BytesIO(response.content)) as img:
            mask_img = img.convert("L")
            if mask_img.size != (work.shape[1], work.shape[0]):
                mask_img = mask_img.resize((work.shape[1], work.shape[0]), Image.Resampling.NEAREST)
            mask = np.asarray(mask_img) > 127
        person = response.headers.get("X-Segment-Person", "0").strip() == "1"
        return _finish(np.asarray(mask), rgb.shape, "model-server", person=person)


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


class FallbackSegmenter:
    """The model server first; the embedded segmenter while the server is unreachable or failing,
    so a down segmentation service slows tagging instead of refusing photos."""

    def __init__(self, primary: Segmenter, fallback: Segmenter) -> None:
        self.primary = primary
        self.fallback = fallback

    def segment(self, rgb: RGB) -> Segmentation:
        try:
            return self.primary.segment(rgb)
        except httpx.HTTPError as exc:
            logger.warning("segmentation server failed (%s); using the embedded segmenter", exc)
            return self.fallback.segment(rgb)


def mask_png(mask: Mask) -> bytes:
    """A mask as the model-server protocol sends it: 8-bit PNG, white = garment."""
    buf = io.BytesIO()
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L").save(buf, "PNG")
    return buf.getvalue()
