"""Decoding uploaded photos safely, and the small image utilities the wardrobe needs.

Uploads are untrusted: a file may lie about its type, be truncated, or be a decompression bomb
(a few kilobytes of PNG that claims 30000x30000 pixels). ``load_image`` checks the byte size
before decoding, sniffs the real format with Pillow, checks the pixel count from the header
*before* any pixel is decoded, and forces a full decode so broken files fail here with a clear
``ImageRejected`` instead of later, half-way through an analysis. Every rejection carries a
stable ``code`` for the API and an English message that says what to do.

``encode_jpeg`` re-encodes without metadata: phone photos carry GPS positions in EXIF, and a
stored wardrobe photo must not leak where someone lives.

Duplicates are found with a 64-bit DCT perceptual hash. ``DUPLICATE_DISTANCE`` was measured
on the 300 catalogue thumbnails (tests/tools/wardrobe/test_images.py keeps the check): the same
thumbnail re-encoded at JPEG quality 60 is 0-4 bits away (95th percentile 2), resized to half
and back 0-2 bits, cropped by 2% on each side median 4 / 95th percentile 8 bits (a 4% crop
already reaches a median of 8). Among the 11,571 pairs of *different* products of the same
article type (studio T-shirts on the same model, shoes on white), the median distance is 28
bits, the 1st percentile 16, and only 0.6% of pairs are within 8 bits (1.1% within 10).
8 bits catches re-encodes, resizes and light crops while false matches stay rare, and a
suspected duplicate is only ever offered to the user to confirm.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from tools.base import Refusal

RGB = NDArray[np.uint8]
Format = Literal["JPEG", "PNG", "WEBP"]
ACCEPTED_FORMATS: tuple[Format, ...] = ("JPEG", "PNG", "WEBP")

#: Two photos whose hashes differ by at most this many bits are treated as the same photo.
DUPLICATE_DISTANCE = 8

# A truncated upload must fail, never decode half a garment silently.
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageRejected(Refusal):
    """An upload the wardrobe cannot use."""

    CODES = frozenset(
        {
            "empty",
            "too_large",
            "not_an_image",
            "unsupported_format",
            "corrupt",
            "too_many_pixels",
            "too_small",
            "no_garment",
        }
    )


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    min_side: int = 64
    max_side_for_processing: int = 1024


@dataclass(frozen=True)
class LoadedImage:
    rgb: RGB
    format: Format
    width: int
    height: int
    original_bytes: int


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def load_image(data: bytes, limits: ImageLimits = ImageLimits()) -> LoadedImage:
    """Decode an upload into RGB pixels, or raise ``ImageRejected`` saying why not."""
    size = len(data)
    if size == 0:
        raise ImageRejected("empty", "The file is empty; please choose a photo to upload.")
    if size > limits.max_bytes:
        raise ImageRejected(
            "too_large",
            f"The file is {_megabytes(size)}; photos up to {limits.max_bytes // (1024 * 1024)} MB "
            "are accepted. Please upload a smaller or more compressed photo.",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(None, limits) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(
            "not_an_image", "This file is not a picture we can read; please upload a JPEG, PNG or WebP photo."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(
            "corrupt", "The photo is damaged and cannot be read; please upload it again."
        ) from exc
    with img:
        fmt = img.format
        if fmt not in ACCEPTED_FORMATS:
            raise ImageRejected(
                "unsupported_format",
                f"{fmt or 'This'} images are not accepted; please upload a JPEG, PNG or WebP photo.",
            )
        width, height = img.size
        if width * height > limits.max_pixels:
            raise _too_many_pixels((width, height), limits)
        if min(width, height) < limits.min_side:
            raise ImageRejected(
                "too_small",
                f"The photo is only {width}x{height} pixels; please upload one at least "
                f"{limits.min_side} pixels on each side so the garment can be seen.",
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img.load()
                upright = ImageOps.exif_transpose(img)
                rgb = _to_rgb(upright)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels((width, height), limits) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageRejected(
                "corrupt", "The photo is damaged or incomplete and cannot be read; please upload it again."
            ) from exc
    return LoadedImage(
        rgb=rgb,
        format=fmt,
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        original_bytes=size,
    )


def _too_many_pixels(size: tuple[int, int] | None, limits: ImageLimits) -> ImageRejected:
    described = f"{size[0]}x{size[1]} pixels" if size else "too many pixels"
    return ImageRejected(
        "too_many_pixels",
        f"The photo claims {described}; at most {limits.max_pixels / 1e6:.0f} megapixels are accepted. "
        "Please upload a smaller photo.",
    )


def _to_rgb(img: Image.Image) -> RGB:
    """RGB pixels, with any transparency laid on white (how a cut-out product photo is meant to look)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def working_copy(image: LoadedImage | RGB, max_side: int) -> RGB:
    """A copy no longer than ``max_side``: analysis cost grows with pixels, not with insight."""
    rgb = image.rgb if isinstance(image, LoadedImage) else image
    return resize_max_side(rgb, max_side)


def resize_max_side(rgb: RGB, max_side: int) -> RGB:
    h, w = rgb.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return rgb.copy()
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def encode_jpeg(rgb: RGB, quality: int = 90) -> bytes:
    """JPEG bytes with no metadata at all (no EXIF, so no GPS position)."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def encode_png(rgb: RGB) -> bytes:
    """Lossless PNG bytes: for pictures that are still to be processed (try-on inputs and results)."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(out, "PNG")
    return out.getvalue()


def encode_cutout_png(rgb: RGB, mask: NDArray[Any]) -> bytes:
    """The item on a transparent background, for wardrobe cards and try-on."""
    if mask.shape[:2] != rgb.shape[:2]:
        raise ValueError("mask and image sizes differ")
    alpha = np.where(mask.astype(bool), 255, 0).astype(np.uint8)
    rgba = np.dstack([rgb, alpha])
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(out, "PNG", optimize=True)
    return out.getvalue()


def perceptual_hash(rgb: RGB) -> int:
    """64-bit DCT pHash: survives re-encoding and resizing, so re-uploads are recognised."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    dct = cv2.dct(small)[:8, :8].flatten()
    # The DC term says only how bright the photo is; leave it out of the median.
    median = float(np.median(dct[1:]))
    bits = dct > median
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
