"""The outfit board puts each real photo where its slot says, cut out, captioned, the same every time."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools.imagegen import board
from tools.imagegen.board import BoardItem, compose_board, encode_png

BACKGROUND = (247, 245, 242)
THUMBNAILS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"

RED = (215, 30, 35)
BLUE = (30, 60, 200)
GREEN = (30, 165, 60)
ORANGE = (240, 150, 20)


def garment(colour: tuple[int, int, int], *, height: int = 240, width: int = 180) -> np.ndarray:
    """A product shot: a solid ellipse of one colour on a studio-white background."""
    image = np.full((height, width, 3), 252, np.uint8)
    yy, xx = np.mgrid[:height, :width]
    inside = ((yy - height / 2) / (height * 0.42)) ** 2 + ((xx - width / 2) / (width * 0.4)) ** 2 <= 1
    image[inside] = colour
    return image


def colour_mask(rgb: np.ndarray, colour: tuple[int, int, int], tolerance: int = 30) -> np.ndarray:
    distance: np.ndarray = np.abs(rgb.astype(np.int16) - np.asarray(colour, np.int16)).max(axis=2)
    return distance <= tolerance


def centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.mean())


def outfit() -> list[BoardItem]:
    return [
        BoardItem("Red shirt", garment(RED), "top", "₹1,299"),
        BoardItem("Blue trousers", garment(BLUE), "bottom", "₹1,899"),
        BoardItem("Green sneakers", garment(GREEN, height=150, width=220), "shoes", "₹2,499"),
        BoardItem("Orange tote", garment(ORANGE, height=200, width=200), "bag", None),
    ]


def test_board_has_the_requested_size_and_dtype() -> None:
    rgb = compose_board(outfit(), size=(640, 480))
    assert rgb.shape == (480, 640, 3)
    assert rgb.dtype == np.uint8


def test_each_photo_appears_at_its_slot_position() -> None:
    rgb = compose_board(outfit(), title="Weekend", size=(800, 800))
    red, blue, green, orange = (colour_mask(rgb, c) for c in (RED, BLUE, GREEN, ORANGE))
    for mask in (red, blue, green, orange):
        assert mask.mean() > 0.01  # each garment is visibly on the board
    (rx, ry), (bx, by), (_gx, gy), (ox, _oy) = (centroid(m) for m in (red, blue, green, orange))
    assert rx < 400
    assert ry < 400
    assert bx < 400
    assert by > ry
    assert gy > ry
    assert gy > 400
    assert ox > 400
    assert ox > rx


def test_card_region_takes_the_garment_colour() -> None:
    rgb = compose_board([BoardItem("Red shirt", garment(RED), "top", None)], size=(512, 512))
    ys, xs = np.nonzero(colour_mask(rgb, RED, tolerance=60))
    region = rgb[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].reshape(-1, 3).astype(float)
    red_share = colour_mask(rgb[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], RED, 30).mean()
    assert red_share > 0.6  # the ellipse fills most of its bounding box
    assert np.abs(np.median(region, axis=0) - RED).max() < 20


def test_plain_white_photo_background_is_removed() -> None:
    rgb = compose_board([BoardItem("Red shirt", garment(RED), "top", None)], size=(512, 512))
    studio_white = (rgb >= 251).all(axis=2)
    assert studio_white.mean() < 0.005  # no white rectangle around the cut-out


def test_busy_photo_is_kept_whole_on_a_card() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (200, 160, 3), dtype=np.uint8)
    rgb = compose_board([BoardItem("Print scarf", noise, "accessory", "₹499")], size=(512, 512))
    middle = rgb[150:350, 150:350].astype(float)
    assert middle.std() > 40  # the busy photo is shown as it is, not erased


def test_missing_photo_gets_a_placeholder_tile() -> None:
    rgb = compose_board([BoardItem("Silver watch", None, "accessory", None)], size=(512, 512))
    placeholder = colour_mask(rgb, board._PLACEHOLDER, tolerance=2)
    assert placeholder.mean() > 0.05
    ys, _ = np.nonzero(placeholder)
    inked = (np.abs(rgb[ys.min() : ys.max()].astype(int) - board._PLACEHOLDER).max(axis=2) > 40).sum()
    assert inked > 50  # the tile says "no photo"


def test_owned_piece_gets_a_badge() -> None:
    items = [BoardItem("My red shirt", garment(RED), "top", None, owned=True)]
    owned = compose_board(items, size=(512, 512))
    bought = compose_board([BoardItem("My red shirt", garment(RED), "top", None)], size=(512, 512))
    assert colour_mask(owned, board._BADGE, tolerance=3).sum() > 100
    assert colour_mask(bought, board._BADGE, tolerance=3).sum() == 0


@pytest.mark.skipif(board.cjk_font() is None, reason="no CJK font installed (Debian: fonts-wqy-microhei)")
def test_chinese_title_renders_real_glyphs() -> None:
    items = [BoardItem("红色衬衫", garment(RED), "上衣", "¥299")]
    wedding = compose_board(items, title="婚礼穿搭", size=(512, 512))
    office = compose_board(items, title="通勤造型", size=(512, 512))
    band = slice(0, 60)
    inked = (np.abs(wedding[band].astype(int) - BACKGROUND).max(axis=2) > 60).sum()
    assert inked > 200
    # Missing glyphs would be identical boxes; different words must give different pixels.
    assert (wedding[band] != office[band]).any(axis=2).sum() > 100


def test_english_title_and_note_render() -> None:
    items = [BoardItem("Red shirt", garment(RED), "top", None)]
    plain = compose_board(items, size=(512, 512))
    titled = compose_board(items, title="Office look", note="Layout of real product photos", size=(512, 512))
    top_band, foot_band = slice(0, 50), slice(480, 512)
    assert (plain[top_band].max(axis=2) < 100).sum() == 0
    assert (titled[top_band].max(axis=2) < 100).sum() > 50  # the title's dark ink
    assert (titled[foot_band].max(axis=2) < 180).sum() > 50  # the note's muted ink


def test_same_input_gives_the_same_bytes() -> None:
    first = encode_png(compose_board(outfit(), title="周末 Weekend", note="note"))
    second = encode_png(compose_board(outfit(), title="周末 Weekend", note="note"))
    assert first == second


def test_encode_png_round_trips() -> None:
    rgb = compose_board(outfit(), size=(300, 300))
    data = encode_png(rgb)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (np.asarray(Image.open(io.BytesIO(data)).convert("RGB")) == rgb).all()


def test_eight_items_all_show() -> None:
    colours = [RED, BLUE, GREEN, ORANGE, (140, 40, 170), (20, 170, 170), (120, 80, 30), (230, 90, 160)]
    slots = ["top", "top", "bottom", "bag", "hat", "belt", "shoes", "shoes"]
    items = [
        BoardItem(f"piece {k}", garment(c), s, None)
        for k, (c, s) in enumerate(zip(colours, slots, strict=False))
    ]
    rgb = compose_board(items, size=(1024, 768))
    for colour in colours:
        assert colour_mask(rgb, colour, tolerance=20).mean() > 0.004


@pytest.mark.parametrize("count", [0, 9])
def test_item_count_outside_one_to_eight_is_refused(count: int) -> None:
    items = [BoardItem(f"piece {k}", garment(RED), "top", None) for k in range(count)]
    with pytest.raises(ValueError, match=r"at least one|at most 8"):
        compose_board(items)


def test_image_that_is_not_rgb_uint8_is_refused() -> None:
    floats = garment(RED).astype(np.float32)
    with pytest.raises(ValueError, match="uint8"):
        compose_board([BoardItem("Red shirt", floats, "top", None)])  # type: ignore[arg-type]


def test_long_names_are_shortened_with_an_ellipsis() -> None:
    text = "Turtle Check Men Navy Blue Slim Fit Casual Shirt With Button Down Collar"
    fitted = board._fit_text(text, 14, 150)
    assert fitted.endswith("…")
    assert board._text_width(fitted, 14) <= 150


@pytest.mark.skipif(not (THUMBNAILS / "2169.jpg").exists(), reason="catalogue thumbnails not downloaded")
def test_real_catalogue_shirt_lands_upper_left() -> None:
    shirt = np.asarray(Image.open(THUMBNAILS / "2169.jpg").convert("RGB"))
    items = [BoardItem("Turtle Check Red Shirt", shirt, "top", "₹1,299"), *outfit()[1:]]
    rgb = compose_board(items, size=(640, 640))
    reddish = (rgb[:, :, 0].astype(int) - rgb[:, :, 1:].max(axis=2) > 80) & ~colour_mask(rgb, ORANGE, 60)
    x, y = centroid(reddish)
    assert reddish.mean() > 0.01
    assert x < 320
    assert y < 320


def test_white_garment_on_white_keeps_its_body_when_the_outline_has_a_gap() -> None:
    shirt = np.full((240, 180, 3), 254, np.uint8)
    yy, xx = np.mgrid[:240, :180]
    radius = ((yy - 120) / 100.0) ** 2 + ((xx - 90) / 72.0) ** 2
    shirt[radius <= 1] = 238  # an off-white body, pale enough for the fill to take it
    shirt[(radius > 0.9) & (radius <= 1)] = 90  # its seam...
    shirt[(radius > 0.9) & (radius <= 1) & (np.abs(xx - 90) < 2) & (yy > 120)] = 254  # ...with a gap
    rgb = compose_board(
        [BoardItem("White tee", shirt, "top", None)], size=(512, 512), background=(60, 60, 60)
    )
    body = colour_mask(rgb, (238, 238, 238), tolerance=6)
    assert body.mean() > 0.05  # the pale body is on the board, not flooded away as backdrop
    assert colour_mask(rgb, (254, 254, 254), tolerance=3).mean() < 0.005  # and cut out, not on a card
