"""Is this a photo the try-on can dress, and which part of it may an engine repaint?

A try-on warps a garment onto a skeleton, so a photo without one cannot be dressed, and one
with two skeletons would be dressed at random. ``check_person`` therefore refuses, with a
stable code and a message that says what to send instead:

* ``no_person``: MediaPipe Pose finds no skeleton and no face (a product photo, a landscape),
  or the person silhouette covers almost nothing;
* ``several_people``: MediaPipe face detection (full-range model) sees two or more confident
  faces, or the selfie silhouette splits into two large separate figures. Pose only ever
  reports one skeleton, so it cannot tell by itself;
* ``face_only``: a face, but the shoulders are out of frame (a selfie crop). Pose happily
  *guesses* shoulders below the picture with high visibility, so the test is geometric (the
  shoulder points must lie inside the frame), not the visibility score;
* ``body_not_visible``: shoulders in frame but less than about half a shoulder width of torso
  below them, which leaves nowhere to put a shirt.

All detectors run on a copy no longer than 512 px (``segment.WORKING_SIDE``), like the
wardrobe segmenter, and share its MediaPipe graphs.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from tools.tryon.engine import GarmentKind, Mask, TryOnRejected
from tools.wardrobe.images import RGB, resize_max_side
from tools.wardrobe.segment import _MP, WORKING_SIDE, Landmarks

#: Below this share of the photo the silhouette is not a person to dress.
MIN_PERSON_FRACTION = 0.03
#: Faces below this detector score are ignored when counting people.
FACE_SCORE = 0.6
#: A second silhouette component counts as a person when at least this share of the largest.
SECOND_FIGURE_SHARE = 0.35
#: Torso visible below the shoulders, in shoulder widths, needed for an upper garment.
MIN_TORSO_SPANS = 0.6
#: Landmark visibility needed to treat a joint as seen.
VISIBLE = 0.5

_ASK = "Please send a photo of just you, from the waist up or full length, facing the camera."


class _FaceDetector:
    """One full-range face detector per process, used under a lock (MediaPipe graphs are not
    thread-safe and cost a few hundred ms to build)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._detector: Any = None

    def scores(self, rgb: RGB) -> list[float]:
        with self._lock:
            if self._detector is None:
                import mediapipe as mp  # type: ignore[import-untyped]  # heavy; only when a photo needs it

                self._detector = mp.solutions.face_detection.FaceDetection(
                    model_selection=1, min_detection_confidence=0.4
                )
            result = self._detector.process(np.ascontiguousarray(rgb))
        return [float(d.score[0]) for d in (result.detections or [])]


_FACES = _FaceDetector()


@dataclass(frozen=True)
class PersonPose:
    #: Normalised (x, y, visibility) per MediaPipe landmark name, as ``tools.wardrobe.segment``.
    landmarks: Landmarks
    #: The person's silhouette at the photo's full size.
    person_mask: Mask
    #: ``"full"`` when knees or ankles are in frame, else ``"upper"``.
    body: Literal["upper", "full"]
    width: int
    height: int

    def px(self, name: str) -> NDArray[np.float64]:
        """A landmark in pixels of the full-size photo."""
        x, y, _ = self.landmarks[name]
        return np.array([x * self.width, y * self.height])

    def seen(self, *names: str, threshold: float = VISIBLE, margin: float = 0.0) -> bool:
        """Visible *and* inside the frame: Pose extrapolates joints beyond the border with high
        visibility, which would otherwise dress a body that is not in the picture."""
        for name in names:
            x, y, v = self.landmarks[name]
            if v < threshold or not (-margin <= x <= 1 + margin and -margin <= y <= 1 + margin):
                return False
        return True

    @property
    def shoulder_span(self) -> float:
        return float(np.linalg.norm(self.px("left_shoulder") - self.px("right_shoulder")))

    def down(self) -> NDArray[np.float64]:
        """Unit vector along the torso, from the shoulders towards the hips."""
        ls, rs = self.px("left_shoulder"), self.px("right_shoulder")
        across = (ls - rs) / max(float(np.linalg.norm(ls - rs)), 1.0)
        down = np.array([-across[1], across[0]])
        return down if down[1] >= 0 else -down

    def hips(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(left, right) hip points; estimated a torso length (1.3 shoulder widths) below the
        shoulders when the hips are not seen."""
        if self.seen("left_hip", "right_hip", threshold=0.3, margin=0.15):
            return self.px("left_hip"), self.px("right_hip")
        step = self.down() * self.shoulder_span * 1.3
        return self.px("left_shoulder") + step, self.px("right_shoulder") + step


def _reject_several() -> TryOnRejected:
    return TryOnRejected(
        "several_people", f"This photo shows more than one person, so we can't tell whom to dress. {_ASK}"
    )


def _figures(mask: Mask) -> int:
    """Large separate silhouettes: the second and later count when they are a sizeable figure."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return count - 1
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
    return 1 + int(np.sum(areas[1:] >= max(areas[0] * SECOND_FIGURE_SHARE, mask.size * 0.03)))


def check_person(rgb: RGB) -> PersonPose:
    """The one person to dress in ``rgb``; raises ``TryOnRejected`` when there is none to dress."""
    h, w = rgb.shape[:2]
    work = resize_max_side(rgb, WORKING_SIDE)
    lm = _MP.landmarks(work)
    faces = [s for s in _FACES.scores(work) if s >= FACE_SCORE]
    silhouette = np.asarray(_MP.person_mask(work) > 0.5)
    if len(faces) >= 2:
        raise _reject_several()
    if lm is None or silhouette.mean() < MIN_PERSON_FRACTION:
        if faces:
            raise TryOnRejected(
                "face_only", f"We can see a face but not your shoulders and upper body. {_ASK}"
            )
        raise TryOnRejected("no_person", f"We couldn't find a person in this photo. {_ASK}")
    if _figures(silhouette) >= 2:
        raise _reject_several()
    full = cv2.resize(silhouette.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR) > 127
    pose = PersonPose(
        landmarks=lm,
        person_mask=np.asarray(full),
        body="upper",
        width=w,
        height=h,
    )
    if not pose.seen("left_shoulder", "right_shoulder", margin=-0.01):
        if faces or pose.seen("nose", "left_eye", "right_eye"):
            raise TryOnRejected(
                "face_only", f"We can see a face but not your shoulders and upper body. {_ASK}"
            )
        raise TryOnRejected(
            "body_not_visible", f"Your shoulders and upper body need to be in the photo. {_ASK}"
        )
    lowest_shoulder = max(pose.px("left_shoulder")[1], pose.px("right_shoulder")[1])
    if h - lowest_shoulder < MIN_TORSO_SPANS * pose.shoulder_span:
        raise TryOnRejected(
            "body_not_visible",
            f"Most of your upper body is out of the frame, so there is nowhere to put the garment. {_ASK}",
        )
    full_body = pose.seen("left_knee", "right_knee") or pose.seen("left_ankle", "right_ankle")
    if full_body:
        pose = PersonPose(landmarks=lm, person_mask=pose.person_mask, body="full", width=w, height=h)
    return pose


def _leg_room(pose: PersonPose) -> float:
    """How much leg is in frame below the hips, in torso lengths."""
    lh, rh = pose.hips()
    hip_y = float(max(lh[1], rh[1]))
    shoulder_y = float((pose.px("left_shoulder")[1] + pose.px("right_shoulder")[1]) / 2)
    torso = max(hip_y - shoulder_y, 1.0)
    return (pose.height - hip_y) / torso


def check_fit(pose: PersonPose, kind: GarmentKind) -> None:
    """Refuse a garment the photo has no room for: trousers, skirts and dresses need the hips and
    a good part of the legs in frame."""
    if kind == "upper":
        return
    if not pose.seen("left_hip", "right_hip", threshold=0.4) or _leg_room(pose) < 0.5:
        what = "trousers or a skirt" if kind == "lower" else "a dress"
        raise TryOnRejected(
            "body_not_visible",
            f"To try on {what} we need to see your hips and legs. Please send a full-length photo "
            "of just you, facing the camera.",
        )


def _line(canvas: NDArray[np.uint8], p: NDArray[np.float64], q: NDArray[np.float64], thickness: int) -> None:
    a = (round(float(p[0])), round(float(p[1])))
    b = (round(float(q[0])), round(float(q[1])))
    cv2.line(canvas, a, b, 1, max(1, thickness))


def torso_polygon(pose: PersonPose, widen: float = 0.22, hem: float = 0.15) -> NDArray[np.float64]:
    """Shoulders to just below the hips, widened for loose garments."""
    ls, rs = pose.px("left_shoulder"), pose.px("right_shoulder")
    lh, rh = pose.hips()
    span = pose.shoulder_span
    down = pose.down()
    across = (ls - rs) / max(span, 1.0)
    torso_len = float(np.linalg.norm((lh + rh) / 2 - (ls + rs) / 2))
    w = across * span * widen
    up = -down * span * 0.12
    drop = down * torso_len * hem
    return np.array([ls + w + up, lh + w + drop, rh - w + drop, rs - w + up])


def head_mask(pose: PersonPose) -> Mask:
    """Face and head above the neck, which no engine may repaint."""
    canvas = np.zeros((pose.height, pose.width), dtype=np.uint8)
    names = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right")
    pts = np.array([pose.px(n) for n in names])
    centre = pts.mean(axis=0)
    span = pose.shoulder_span
    ears = float(np.linalg.norm(pose.px("left_ear") - pose.px("right_ear")))
    rx = max(ears * 0.75, span * 0.22)
    mouth_y = float(np.mean([pose.px("mouth_left")[1], pose.px("mouth_right")[1]]))
    chin = mouth_y + (mouth_y - float(np.mean([pose.px("left_eye")[1], pose.px("right_eye")[1]]))) * 0.9
    ry = max(chin - float(centre[1]), rx * 1.1)
    cy = float(centre[1])
    cv2.ellipse(
        canvas, (round(float(centre[0])), round(cy)), (round(rx), round(ry * 1.6)), 0, 180, 360, 1, -1
    )
    cv2.ellipse(canvas, (round(float(centre[0])), round(cy)), (round(rx), round(ry)), 0, 0, 180, 1, -1)
    return np.asarray(canvas > 0)


def hand_mask(pose: PersonPose) -> Mask:
    """Discs over the hands (wrist to finger tips), which an engine must not paint over."""
    canvas = np.zeros((pose.height, pose.width), dtype=np.uint8)
    r = max(3, round(pose.shoulder_span * 0.13))
    for side in ("left", "right"):
        if not pose.seen(f"{side}_wrist", threshold=0.3):
            continue
        pts = [pose.px(f"{side}_{n}") for n in ("wrist", "index", "pinky", "thumb")]
        centre = np.mean(pts, axis=0)
        cv2.circle(canvas, (round(float(centre[0])), round(float(centre[1]))), r, 1, -1)
    return np.asarray(canvas > 0)


def arm_mask(pose: PersonPose, thickness: float = 0.36, threshold: float = 0.3) -> Mask:
    """Bands along the arms from shoulder to wrist."""
    canvas = np.zeros((pose.height, pose.width), dtype=np.uint8)
    t = round(pose.shoulder_span * thickness)
    for side in ("left", "right"):
        chain = [f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"]
        for a, b in itertools.pairwise(chain):
            if pose.landmarks[a][2] >= threshold and pose.landmarks[b][2] >= threshold:
                _line(canvas, pose.px(a), pose.px(b), t)
    return np.asarray(canvas > 0)


def leg_mask(pose: PersonPose) -> Mask:
    """Hips down to the ankles (or the bottom of the frame), wide enough for loose trousers."""
    canvas = np.zeros((pose.height, pose.width), dtype=np.uint8)
    lh, rh = pose.hips()
    span = pose.shoulder_span
    down = pose.down()
    waist_up = down * span * 0.2
    t = round(span * 0.55)
    for hip, side in ((lh, "left"), (rh, "right")):
        knee = pose.px(f"{side}_knee") if pose.landmarks[f"{side}_knee"][2] > 0.2 else hip + down * span * 1.6
        ankle = (
            pose.px(f"{side}_ankle") if pose.landmarks[f"{side}_ankle"][2] > 0.2 else knee + down * span * 1.6
        )
        _line(canvas, hip, knee, t)
        _line(canvas, knee, ankle, round(t * 0.8))
    across = (lh - rh) / max(float(np.linalg.norm(lh - rh)), 1.0)
    belt = np.array(
        [lh + across * span * 0.3 - waist_up, lh + across * span * 0.3 + down * span * 0.5,
         rh - across * span * 0.3 + down * span * 0.5, rh - across * span * 0.3 - waist_up]
    )  # fmt: skip
    cv2.fillPoly(canvas, [np.round(belt).astype(np.int32)], 1)
    return np.asarray(canvas > 0)


def agnostic_mask(pose: PersonPose, kind: GarmentKind) -> Mask:
    """The part of the photo a mask-based engine may repaint: where the old garment and the arms
    (upper), the legs (lower) or both (dress) can be, inside the slightly grown silhouette.
    Head and hands stay outside it, so faces and fingers are never regenerated."""
    canvas = np.zeros((pose.height, pose.width), dtype=np.uint8)
    if kind in ("upper", "dress"):
        cv2.fillPoly(canvas, [np.round(torso_polygon(pose)).astype(np.int32)], 1)
        canvas |= arm_mask(pose, thickness=0.44).astype(np.uint8)
    if kind in ("lower", "dress"):
        canvas |= leg_mask(pose).astype(np.uint8)
    k = max(3, round(pose.shoulder_span * 0.06) | 1)
    grown = cv2.dilate(
        pose.person_mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    )
    region = (canvas > 0) & (grown > 0)
    region &= ~head_mask(pose)
    region &= ~hand_mask(pose)
    return np.asarray(region)
