"""The CPU try-on dresses the person where a shirt goes, in the garment's colour, and leaves
everything else alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

from tests.tools.tryon.conftest import draw_tshirt, load_mask, load_rgb, viton
from tools.tryon.engine import RGB, TryOnEngine, TryOnRejected, TryOnRequest, TryOnResult
from tools.tryon.garment import prepare_garment
from tools.tryon.geometric import GeometricEngine, ThinPlateSpline, hair_mask, shading_ratio
from tools.tryon.person import check_person, head_mask

pytestmark = pytest.mark.unit

ENGINE = GeometricEngine()
#: Placement IoU of pair 00891 + 01430 against the parse's old T-shirt: measured 0.76.
IOU_00891 = 0.65


@pytest.fixture(scope="module")
def dressed(astronaut: RGB, tshirt: RGB) -> TryOnResult:
    return ENGINE.run(TryOnRequest(person=astronaut, garment=tshirt, kind="upper"))


def test_thin_plate_spline_passes_through_its_points() -> None:
    src = np.array([[0, 0], [100, 0], [0, 100], [100, 100], [50, 50]], dtype=float)
    dst = src + np.array([[5, 0], [0, 5], [-5, 0], [0, -5], [10, 10]])
    spline = ThinPlateSpline.fit(src, dst, regularisation=0.0)
    assert np.allclose(spline(src), dst, atol=1e-6)
    identity = ThinPlateSpline.fit(src, src, regularisation=0.0)
    assert np.allclose(identity(np.array([[20.0, 70.0]])), [[20.0, 70.0]], atol=1e-6)


def test_tshirt_keypoints(tshirt: RGB) -> None:
    garment = prepare_garment(tshirt, None)
    p = garment.keypoints.points
    assert p["shoulder_left"][0] < p["collar"][0] < p["shoulder_right"][0]
    assert p["collar"][1] < p["armpit_left"][1] < p["hem_left"][1]
    assert abs(p["hem_left"][0] - 100) < 15
    assert abs(p["hem_right"][0] - 300) < 15
    assert set(garment.keypoints.sleeves) == {"left", "right"}
    assert garment.keypoints.sleeves["left"].cuff[0] < 100 < 300 < garment.keypoints.sleeves["right"].cuff[0]
    assert (garment.parts == 2).sum() > 0.05 * garment.mask.sum()


def test_a_blank_garment_photo_is_refused() -> None:
    with pytest.raises(TryOnRejected) as caught:
        prepare_garment(np.full((300, 300, 3), 250, np.uint8), None)
    assert caught.value.code == "no_garment"


def test_the_astronaut_gets_a_blue_shirt(astronaut: RGB, dressed: TryOnResult) -> None:
    assert isinstance(ENGINE, TryOnEngine)
    assert dressed.engine == "geometric-cpu"
    assert dressed.image.shape == astronaut.shape
    assert dressed.image.dtype == np.uint8
    region = dressed.garment_region
    assert region is not None
    assert 0.1 < region.mean() < 0.6
    pose = check_person(astronaut)
    chest = (
        (pose.px("left_shoulder") + pose.px("right_shoulder")) / 2 + pose.down() * pose.shoulder_span * 0.5
    ).astype(int)
    assert region[chest[1], chest[0]]
    # the face is untouched, pixel for pixel
    nose = pose.px("nose").astype(int)
    face = (slice(nose[1] - 30, nose[1] + 20), slice(nose[0] - 25, nose[0] + 25))
    assert np.array_equal(dressed.image[face], astronaut[face])
    # the garment region turned blue: much closer to the shirt's colour than before
    blue = rgb2lab(np.array([[[30, 60, 200]]], dtype=np.uint8))[0, 0]
    before = deltaE_ciede2000(blue, np.median(rgb2lab(astronaut[region][None])[0], axis=0))  # type: ignore[no-untyped-call]
    after = deltaE_ciede2000(blue, np.median(rgb2lab(dressed.image[region][None])[0], axis=0))  # type: ignore[no-untyped-call]
    assert after < 15 < before
    assert set(dressed.timings_ms) == {"person", "garment", "warp", "composite"}


def test_the_result_is_deterministic(astronaut: RGB, tshirt: RGB, dressed: TryOnResult) -> None:
    again = ENGINE.run(TryOnRequest(person=astronaut, garment=tshirt, kind="upper"))
    assert np.array_equal(again.image, dressed.image)


def test_trousers_on_an_upper_body_photo_are_refused(astronaut: RGB) -> None:
    with pytest.raises(TryOnRejected) as caught:
        ENGINE.run(TryOnRequest(person=astronaut, garment=draw_tshirt(), kind="lower"))
    assert caught.value.code == "body_not_visible"


def test_a_viton_pair_lands_on_the_shirt_and_spares_the_face() -> None:
    root = viton()
    test = root / "test"
    person = load_rgb(test / "image" / "00891_00.jpg")
    cloth = load_rgb(test / "cloth" / "01430_00.jpg")
    cloth_mask = load_mask(test / "cloth-mask" / "01430_00.jpg")
    with Image.open(test / "image-parse" / "00891_00.png") as img:
        parse = np.asarray(img)
    result = ENGINE.run(TryOnRequest(person=person, garment=cloth, kind="upper", garment_mask=cloth_mask))
    assert result.image.shape == person.shape
    region = result.garment_region
    assert region is not None
    old = parse == 5
    iou = (region & old).sum() / (region | old).sum()
    assert iou > IOU_00891  # sleeves and length differ from the old T-shirt
    face = parse == 13
    assert np.abs(result.image[face].astype(int) - person[face]).max() <= 2
    cloth_lab = np.median(rgb2lab(cloth[cloth_mask][None])[0], axis=0)
    got = deltaE_ciede2000(cloth_lab, np.median(rgb2lab(result.image[region][None])[0], axis=0))  # type: ignore[no-untyped-call]
    was = deltaE_ciede2000(cloth_lab, np.median(rgb2lab(person[old][None])[0], axis=0))  # type: ignore[no-untyped-call]
    assert got < 8 < 30 < was
    assert not np.array_equal(result.image[region], person[region])


def test_trousers_and_a_dress_on_a_viton_photo() -> None:
    root = viton()
    person = load_rgb(root / "test" / "image" / "00891_00.jpg")
    trousers = np.full((480, 400, 3), 255, dtype=np.uint8)
    trousers[20:460, 80:190] = (30, 60, 160)
    trousers[20:460, 210:320] = (30, 60, 160)
    trousers[20:140, 80:320] = (30, 60, 160)
    for kind in ("lower", "dress"):
        result = ENGINE.run(TryOnRequest(person=person, garment=trousers, kind=kind))
        assert result.image.shape == person.shape
        assert result.garment_region is not None
        assert result.garment_region.mean() > 0.03


def _viton_run(person_id: str, cloth_id: str) -> tuple[RGB, TryOnResult, np.ndarray]:
    test = viton() / "test"
    person = load_rgb(test / "image" / f"{person_id}.jpg")
    cloth = load_rgb(test / "cloth" / f"{cloth_id}.jpg")
    cloth_mask = load_mask(test / "cloth-mask" / f"{cloth_id}.jpg")
    with Image.open(test / "image-parse" / f"{person_id}.png") as img:
        parse = np.asarray(img)
    result = ENGINE.run(TryOnRequest(person=person, garment=cloth, kind="upper", garment_mask=cloth_mask))
    return person, result, parse


def test_long_sleeves_hanging_against_the_body_are_told_apart() -> None:
    test = viton() / "test"
    garment = prepare_garment(
        load_rgb(test / "cloth" / "02783_00.jpg"), load_mask(test / "cloth-mask" / "02783_00.jpg")
    )
    k = garment.keypoints
    x0, _, x1, _ = k.box
    # the body is the middle ~60% of the photo's width, not the sleeves' outer edges
    assert k.torso_right - k.torso_left < 0.7 * (x1 - x0)
    assert set(k.sleeves) == {"left", "right"}
    # long sleeves: the cuffs hang below the torso's hem, outside the torso edges
    hem_y = k.points["hem_left"][1]
    assert k.sleeves["left"].cuff[1] > hem_y
    assert k.sleeves["right"].cuff[1] > hem_y
    assert k.sleeves["left"].cuff[0] < k.torso_left < k.torso_right < k.sleeves["right"].cuff[0]


def test_camisole_straps_are_not_taken_for_sleeves() -> None:
    test = viton() / "test"
    garment = prepare_garment(
        load_rgb(test / "cloth" / "09933_00.jpg"), load_mask(test / "cloth-mask" / "09933_00.jpg")
    )
    assert garment.keypoints.sleeves == {}
    x0, _, x1, _ = garment.keypoints.box
    assert garment.keypoints.torso_right - garment.keypoints.torso_left > 0.7 * (x1 - x0)


@pytest.mark.parametrize(
    ("person_id", "cloth_id"), [("00891_00", "01430_00"), ("08909_00", "02783_00"), ("07445_00", "06429_00")]
)
def test_the_garment_stays_on_the_body_and_above_the_thighs(person_id: str, cloth_id: str) -> None:
    person, result, _ = _viton_run(person_id, cloth_id)
    region = result.garment_region
    assert region is not None
    pose = check_person(person)
    k = round(pose.shoulder_span * 0.1) | 1
    body = cv2.dilate(pose.person_mask.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    assert (region & ~body).sum() < 0.01 * region.sum()
    # a top ends around the hips, never over the thighs (long sleeves may reach lower, beside them)
    lh, rh = pose.hips()
    shoulders_y = (pose.px("left_shoulder")[1] + pose.px("right_shoulder")[1]) / 2
    hip_y = (lh[1] + rh[1]) / 2
    below = round(hip_y + 0.3 * (hip_y - shoulders_y))
    x0, x1 = sorted((round(lh[0]), round(rh[0])))
    assert not region[below:, x0:x1].any()


def test_sleeves_follow_the_arms() -> None:
    person, _, _ = _viton_run("00891_00", "01430_00")
    pose = check_person(person)
    test = viton() / "test"
    garment = prepare_garment(
        load_rgb(test / "cloth" / "01430_00.jpg"), load_mask(test / "cloth-mask" / "01430_00.jpg")
    )
    _, _, parts = ENGINE.warp(garment, pose, "upper")
    ys, xs = np.nonzero(parts == 2)
    assert len(xs) > 0.002 * parts.size
    points = np.stack([xs, ys], axis=1).astype(float)
    span = pose.shoulder_span
    best = np.full(len(points), np.inf)
    for side in ("left", "right"):
        a, b = pose.px(f"{side}_shoulder"), pose.px(f"{side}_elbow")
        d = b - a
        u = np.clip(((points - a) @ d) / float(d @ d), 0, 1)
        best = np.minimum(best, np.linalg.norm(points - (a + u[:, None] * d), axis=1))
    # every sleeve pixel lies on an upper arm (within its width), none floats off it
    assert np.percentile(best, 99) < 0.3 * span


def test_shading_keeps_folds_but_not_the_old_print() -> None:
    rng = np.random.default_rng(0)
    photo = np.full((400, 300, 3), 180, np.uint8)
    photo[::8, :] = 20  # a dark striped print
    photo[:, 200:] = (photo[:, 200:] * 0.7).astype(np.uint8)  # and a shadow down one side
    photo = np.clip(photo.astype(int) + rng.integers(-5, 6, photo.shape), 0, 255).astype(np.uint8)
    old = np.zeros((400, 300), bool)
    old[50:350, 30:270] = True
    ratio = shading_ratio(photo, old, span=200.0)
    assert ratio.min() >= 0.74
    assert ratio.max() <= 1.13
    rows = ratio[100:300, 100]
    assert np.ptp(rows) < 0.03  # no stripes stamped on the new garment
    assert ratio[200, 250] < ratio[200, 100] - 0.05  # the shadow survives


def test_hair_over_the_shoulders_stays_in_front() -> None:
    test = viton() / "test"
    person = load_rgb(test / "image" / "08909_00.jpg")
    with Image.open(test / "image-parse" / "08909_00.png") as img:
        parse = np.asarray(img)
    pose = check_person(person)
    hair = hair_mask(person, pose, head_mask(pose))
    truth = parse == 2
    shoulders_y = round(min(pose.px("left_shoulder")[1], pose.px("right_shoulder")[1]))
    low_truth = truth.copy()
    low_truth[: shoulders_y - 40] = False
    assert (hair & low_truth).sum() > 0.3 * low_truth.sum()  # finds hair on the shoulders
    assert (hair & (parse == 5)).sum() < 0.2 * hair.sum()  # and little of the top
