"""Which photos the try-on accepts, why it refuses the others, and where it may paint."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from tests.tools.tryon.conftest import load_rgb, viton
from tools.tryon.engine import RGB, TryOnRejected
from tools.tryon.person import agnostic_mask, check_fit, check_person

pytestmark = pytest.mark.unit


def _code(rgb: RGB) -> str:
    with pytest.raises(TryOnRejected) as caught:
        check_person(np.ascontiguousarray(rgb))
    assert caught.value.message.endswith("facing the camera.") or "photo" in caught.value.message
    return caught.value.code


def test_an_upper_body_portrait_is_accepted(astronaut: RGB) -> None:
    pose = check_person(astronaut)
    assert pose.body == "upper"
    assert pose.person_mask.shape == astronaut.shape[:2]
    assert 0.2 < pose.person_mask.mean() < 0.9
    left, right = pose.px("left_shoulder"), pose.px("right_shoulder")
    assert right[0] < left[0]  # facing the camera: the right shoulder is on the left of the photo
    assert pose.shoulder_span > 100


@pytest.mark.parametrize(
    "photo",
    [skimage.data.coffee(), np.full((600, 400, 3), 128, np.uint8)],  # type: ignore[no-untyped-call]
    ids=["coffee", "flat"],
)
def test_no_person(photo: RGB) -> None:
    assert _code(photo) == "no_person"


def test_two_people_face_crop_and_cut_off_body_are_refused(astronaut: RGB) -> None:
    pose = check_person(astronaut)
    nose = pose.px("nose")
    shoulders_y = (pose.px("left_shoulder")[1] + pose.px("right_shoulder")[1]) / 2
    span = pose.shoulder_span
    face = astronaut[
        : int(nose[1] + 0.5 * (shoulders_y - nose[1])),
        int(nose[0] - 0.45 * span) : int(nose[0] + 0.45 * span),
    ]
    assert _code(np.hstack([astronaut, astronaut])) == "several_people"
    assert _code(face) == "face_only"
    assert _code(astronaut[: int(shoulders_y + 0.3 * span)]) == "body_not_visible"


def test_trousers_need_legs(astronaut: RGB) -> None:
    pose = check_person(astronaut)
    check_fit(pose, "upper")
    for kind in ("lower", "dress"):
        with pytest.raises(TryOnRejected) as caught:
            check_fit(pose, kind)
        assert caught.value.code == "body_not_visible"


def test_the_agnostic_region_covers_the_torso_not_the_face(astronaut: RGB) -> None:
    pose = check_person(astronaut)
    region = agnostic_mask(pose, "upper")
    assert region.shape == astronaut.shape[:2]
    nose = pose.px("nose").astype(int)
    assert not region[nose[1], nose[0]]
    chest = (
        (pose.px("left_shoulder") + pose.px("right_shoulder")) / 2 + pose.down() * pose.shoulder_span * 0.4
    ).astype(int)
    assert region[chest[1], chest[0]]
    assert not region[5, 5]  # background corner
    assert not (region & ~pose.person_mask).sum() > 0.1 * region.sum()


def test_every_real_photo_is_accepted_and_bad_ones_get_their_code() -> None:
    root = viton()
    photos = sorted((root / "test" / "image").glob("*.jpg")) + sorted(
        (root / "extra_idm_vton_examples" / "person").glob("*.jpg")
    )
    assert len(photos) == 11
    for path in photos:
        pose = check_person(load_rgb(path))
        assert (pose.width, pose.height) == (768, 1024), path.name
        # VITON-HD photos end mid-thigh: room for trousers, but legs are not fully in frame
        check_fit(pose, "upper")
    a, b = load_rgb(photos[0]), load_rgb(photos[1])
    assert _code(np.hstack([a, b])) == "several_people"
    assert _code(a[40:330, 200:560]) == "face_only"
    assert _code(load_rgb(sorted((root / "test" / "cloth").glob("*.jpg"))[0])) == "no_person"
