"""Upload decoding: every rejection code, orientation, metadata stripping and duplicate hashing."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools.wardrobe.images import (
    DUPLICATE_DISTANCE,
    ImageLimits,
    ImageRejected,
    encode_cutout_png,
    encode_jpeg,
    hamming,
    load_image,
    perceptual_hash,
    working_copy,
)

THUMBS = Path(__file__).resolve().parents[3] / "data" / "catalog" / "thumbnails"


def _thumb(item_id: int) -> bytes:
    return (THUMBS / f"{item_id}.jpg").read_bytes()


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


def _rejected(data: bytes, limits: ImageLimits = ImageLimits()) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        load_image(data, limits)
    assert str(info.value) == info.value.message
    return info.value


def test_a_catalogue_thumbnail_decodes_to_rgb():
    loaded = load_image(_thumb(1529))
    assert loaded.format == "JPEG"
    assert loaded.rgb.dtype == np.uint8
    assert loaded.rgb.shape == (loaded.height, loaded.width, 3)
    assert loaded.original_bytes == len(_thumb(1529))


def test_empty_file():
    assert _rejected(b"").code == "empty"


def test_too_large_is_refused_before_decoding():
    exc = _rejected(b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024))
    assert exc.code == "too_large"
    assert "11.0 MB" in exc.message
    assert "10 MB" in exc.message


def test_text_is_not_an_image():
    assert _rejected(b"name,colour\nshirt,blue\n" * 20).code == "not_an_image"


def test_gif_is_unsupported():
    exc = _rejected(_encode(Image.new("RGB", (100, 100), "red"), "GIF"))
    assert exc.code == "unsupported_format"
    assert "GIF" in exc.message


def test_truncated_jpeg_is_corrupt():
    data = _thumb(1529)
    assert _rejected(data[: len(data) // 2]).code == "corrupt"


def _png_claiming(width: int, height: int) -> bytes:
    data = bytearray(_encode(Image.new("RGB", (100, 100), "blue"), "PNG"))
    # IHDR is the first chunk: 8-byte signature, length, "IHDR", then width and height.
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_decompression_bomb_header_is_refused():
    assert _rejected(_png_claiming(30000, 30000)).code == "too_many_pixels"


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    # 8000x6000 = 48 MP: under Pillow's own bomb limit, over ours; the pixel data is missing,
    # so reaching load() would have said "corrupt" instead.
    assert _rejected(_png_claiming(8000, 6000)).code == "too_many_pixels"


def test_tiny_image_is_too_small():
    exc = _rejected(_encode(Image.new("RGB", (10, 10), "white"), "PNG"))
    assert exc.code == "too_small"
    assert "10x10" in exc.message


def test_webp_and_png_are_accepted():
    img = Image.open(io.BytesIO(_thumb(1529)))
    assert load_image(_encode(img, "WEBP")).format == "WEBP"
    assert load_image(_encode(img, "PNG")).format == "PNG"


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (200, 100), "green")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    loaded = load_image(_encode(img, "JPEG", exif=exif))
    assert (loaded.width, loaded.height) == (100, 200)
    assert loaded.rgb.shape == (200, 100, 3)


def test_transparency_is_composited_on_white():
    img = Image.new("RGBA", (80, 80), (255, 0, 0, 0))
    img.paste((0, 0, 255, 255), (20, 20, 60, 60))
    rgb = load_image(_encode(img, "PNG")).rgb
    assert tuple(rgb[0, 0]) == (255, 255, 255)
    assert tuple(rgb[40, 40]) == (0, 0, 255)


def test_jpeg_reencoding_strips_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}  # GPS IFD
    original = _encode(Image.open(io.BytesIO(_thumb(1529))), "JPEG", exif=exif)
    assert len(Image.open(io.BytesIO(original)).getexif()) > 0
    clean = encode_jpeg(load_image(original).rgb)
    assert len(Image.open(io.BytesIO(clean)).getexif()) == 0
    assert b"Exif" not in clean[:200]


def test_cutout_png_carries_the_mask_as_alpha():
    rgb = load_image(_thumb(1592)).rgb
    mask = np.zeros(rgb.shape[:2], dtype=bool)
    mask[10:50, 20:60] = True
    with Image.open(io.BytesIO(encode_cutout_png(rgb, mask))) as img:
        assert img.mode == "RGBA"
        alpha = np.asarray(img)[:, :, 3]
    assert (alpha[mask] == 255).all()
    assert (alpha[~mask] == 0).all()


def test_working_copy_caps_the_long_side():
    loaded = load_image(_thumb(1529))
    small = working_copy(loaded, 128)
    assert max(small.shape[:2]) == 128
    assert working_copy(loaded, 1024).shape == loaded.rgb.shape


SAMPLE_IDS = [int(p.stem) for p in sorted(THUMBS.glob("*.jpg"))[:40]]


def test_reencoded_and_resized_copies_are_duplicates():
    for item_id in SAMPLE_IDS:
        rgb = load_image(_thumb(item_id)).rgb
        h, w = rgb.shape[:2]
        base = perceptual_hash(rgb)
        requality = load_image(encode_jpeg(rgb, quality=60)).rgb
        resized = np.asarray(Image.fromarray(rgb).resize((w // 2, h // 2)).resize((w, h)))
        assert hamming(base, perceptual_hash(requality)) <= DUPLICATE_DISTANCE, item_id
        assert hamming(base, perceptual_hash(resized)) <= DUPLICATE_DISTANCE, item_id


def test_lightly_cropped_copies_are_mostly_duplicates():
    # A 2% crop on each side shifts the hash more: measured 95% of thumbnails within 8 bits.
    distances = []
    for item_id in SAMPLE_IDS:
        rgb = load_image(_thumb(item_id)).rgb
        h, w = rgb.shape[:2]
        cropped = rgb[h // 50 : h - h // 50, w // 50 : w - w // 50]
        distances.append(hamming(perceptual_hash(rgb), perceptual_hash(cropped)))
    assert np.mean(np.array(distances) <= DUPLICATE_DISTANCE) >= 0.9
    assert max(distances) <= 16


def test_different_products_of_the_same_type_are_not_duplicates():
    # Red T-shirts on the same model and background, and two sports shoes on white.
    pairs = [(1529, 1537), (1529, 1617), (1542, 1592), (1634, 1784)]
    for a, b in pairs:
        distance = hamming(
            perceptual_hash(load_image(_thumb(a)).rgb), perceptual_hash(load_image(_thumb(b)).rgb)
        )
        assert distance > DUPLICATE_DISTANCE, (a, b, distance)


def test_hash_is_64_bits():
    value = perceptual_hash(load_image(_thumb(1592)).rgb)
    assert 0 <= value < 2**64
    assert hamming(value, value) == 0
