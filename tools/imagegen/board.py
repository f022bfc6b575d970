"""The outfit board: a magazine-style flat-lay of the *real* product photos of an outfit.

This is not a generated image. Nobody is shown wearing the outfit: the board lays the
catalogue (or wardrobe) photos of each piece side by side, the way a stylist pins cut-outs
to a mood board, so that what the person sees is exactly what they would buy or already own.
It needs no model and no accelerator, runs in a few tens of milliseconds on a CPU, and gives
the same bytes for the same input (cacheable, testable).

Where a photo has a plain, light background (most catalogue product shots) the background is
cut away by a flood fill from the border so the piece lies on the board; where the cut would be
a guess (busy background, white garment on white, a piece touching every edge) the photo is
kept whole on a rounded card instead. A missing photo becomes a neat "no photo" tile.

Text may be English or Chinese: Latin text is set in DejaVu Sans, CJK text in the first CJK
font found (WenQuanYi Micro Hei from the Debian package ``fonts-wqy-microhei``, or Noto Sans
CJK, Droid Sans Fallback, Source Han Sans). Without one, Chinese falls back to PIL's default
font (missing glyphs, never an error).
"""

from __future__ import annotations

import glob
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

RGB = NDArray[np.uint8]
Alpha = NDArray[np.float32]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

MAX_ITEMS = 8

_INK = (38, 36, 34)
_MUTED = (128, 122, 116)
_RULE = (214, 208, 200)
_PLACEHOLDER = (233, 229, 223)
_BADGE = (52, 84, 74)


@dataclass(frozen=True)
class BoardItem:
    """One piece on the board, with the caption the person reads under it."""

    name: str
    image: RGB | None
    slot: str
    price: str | None = None
    owned: bool = False


# --------------------------------------------------------------------------------------------- fonts

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts"))
# (file-name pattern, face index in a collection): Noto's collection puts Simplified Chinese third.
_CJK_FONTS = (
    ("wqy-microhei.ttc", 0),
    ("NotoSansCJK-Regular.ttc", 2),
    ("NotoSansCJKsc-Regular.otf", 0),
    ("NotoSansSC-Regular.otf", 0),
    ("SourceHanSansSC-Regular.otf", 0),
    ("wqy-zenhei.ttc", 0),
    ("DroidSansFallbackFull.ttf", 0),
    ("DroidSansFallback.ttf", 0),
)
_LATIN_FONTS = {
    False: ("DejaVuSans.ttf", "LiberationSans-Regular.ttf"),
    True: ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"),
}


def _find_file(name: str) -> str | None:
    for root in _FONT_DIRS:
        hits = sorted(glob.glob(os.path.join(root, "**", name), recursive=True))
        if hits:
            return hits[0]
    return None


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, int] | None:
    """The CJK font file and face index the board uses, or ``None`` when none is installed."""
    for name, index in _CJK_FONTS:
        path = _find_file(name)
        if path is not None:
            return path, index
    return None


@lru_cache(maxsize=2)
def _latin_font_file(bold: bool) -> str | None:
    for name in _LATIN_FONTS[bold]:
        path = _find_file(name)
        if path is not None:
            return path
    return None


@lru_cache(maxsize=64)
def _font(size: int, *, cjk: bool, bold: bool = False) -> Font:
    size = max(size, 8)
    candidates: list[tuple[str, int]] = []
    cjk_file = cjk_font()
    latin_file = _latin_font_file(bold) or _latin_font_file(False)
    if cjk and cjk_file is not None:
        candidates.append(cjk_file)
    if latin_file is not None:
        candidates.append((latin_file, 0))
    if not cjk and cjk_file is not None:
        candidates.append(cjk_file)
    for path, index in candidates:
        try:
            return ImageFont.truetype(path, size, index=index)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _is_cjk(char: str) -> bool:
    return ord(char) >= 0x2E80


def _runs(text: str) -> list[tuple[str, bool]]:
    """Split text where the script changes, so each run is set in a font that has its glyphs."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        cjk = _is_cjk(char)
        if runs and runs[-1][1] == cjk:
            runs[-1] = (runs[-1][0] + char, cjk)
        else:
            runs.append((char, cjk))
    return runs


def _text_width(text: str, size: int, bold: bool = False) -> float:
    return sum(_font(size, cjk=cjk, bold=bold).getlength(run) for run, cjk in _runs(text))


def _fit_text(text: str, size: int, max_width: float, bold: bool = False) -> str:
    """Shorten to the width, at a word boundary when one is close, with an ellipsis."""
    text = " ".join(text.split())
    if _text_width(text, size, bold) <= max_width:
        return text
    cut = len(text)
    while cut > 0 and _text_width(text[:cut].rstrip() + "…", size, bold) > max_width:
        cut -= 1
    head = text[:cut].rstrip()
    space = head.rfind(" ")
    if space >= max(3, int(len(head) * 0.6)):
        head = head[:space].rstrip(" ,-·/")
    return head + "…" if head else ""


def _draw_text(
    draw: ImageDraw.ImageDraw,
    text: str,
    x: float,
    baseline: float,
    size: int,
    fill: tuple[int, int, int],
    *,
    bold: bool = False,
    align: str = "left",
) -> None:
    width = _text_width(text, size, bold)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    for run, cjk in _runs(text):
        font = _font(size, cjk=cjk, bold=bold)
        # CJK fonts ship one weight: a hairline stroke in the text colour stands in for bold.
        stroke = max(1, size // 30) if bold and cjk else 0
        draw.text(
            (x, baseline), run, font=font, fill=fill, anchor="ls", stroke_width=stroke, stroke_fill=fill
        )
        x += font.getlength(run)


# ------------------------------------------------------------------------------------ photo cut-out


@dataclass(frozen=True)
class _Photo:
    rgb: RGB
    alpha: Alpha | None  # None: keep the photo whole on a card
    backdrop: tuple[int, int, int]


def _prepare_photo(image: RGB) -> _Photo:
    """Cut a plain light background away, or decide the photo must stay whole on a card."""
    rgb = _as_rgb(image)
    h, w = rgb.shape[:2]
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int16)
    backdrop_arr = np.median(border, axis=0)
    backdrop = (int(backdrop_arr[0]), int(backdrop_arr[1]), int(backdrop_arr[2]))
    border_plain = np.abs(border - backdrop_arr).max(axis=1) <= 24
    if h < 16 or w < 16 or min(backdrop) < 170 or border_plain.mean() < 0.7:
        return _Photo(rgb, None, backdrop if border_plain.mean() >= 0.7 else (255, 255, 255))

    diff = np.abs(rgb.astype(np.int16) - backdrop_arr.astype(np.int16)).max(axis=2)
    candidate = (diff <= 22).astype(np.uint8)
    # Opening breaks one-pixel bridges through faint garment outlines, so the fill stays outside.
    kernel = np.ones((3, 3), np.uint8)
    candidate = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, kernel)
    _, labels = cv2.connectedComponents(candidate, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge_labels = edge_labels[edge_labels > 0]  # label 0 is every non-candidate pixel
    backdrop_mask = _without_leaks(np.isin(labels, edge_labels), max(5, round(0.05 * max(h, w))))
    foreground = cv2.morphologyEx((~backdrop_mask).astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)

    ys, xs = np.nonzero(foreground)
    if ys.size == 0:
        return _Photo(rgb, None, backdrop)
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box_area = float((bottom - top) * (right - left))
    coverage = foreground.mean()
    if coverage < 0.04 or coverage > 0.9 or ys.size / box_area < 0.3 or _hull_solidity(foreground) < 0.68:
        return _Photo(_trim(rgb, top, bottom, left, right), None, backdrop)

    alpha = cv2.GaussianBlur(foreground.astype(np.float32), (3, 3), 0.8)
    pad = max(2, int(0.02 * max(h, w)))
    t, b = max(0, top - pad), min(h, bottom + pad)
    lft, r = max(0, left - pad), min(w, right + pad)
    return _Photo(np.ascontiguousarray(rgb[t:b, lft:r]), np.ascontiguousarray(alpha[t:b, lft:r]), backdrop)


def _without_leaks(backdrop: NDArray[np.bool_], neck: int) -> NDArray[np.bool_]:
    """Give back to the piece what the fill reached only through a narrow gap.

    A white tee on white leaks: the fill slips through a pale seam into the body of the shirt.
    Opening the backdrop with a ``neck``-wide disc cuts such passages; only what stays joined to
    the border is backdrop, so the pale body of the garment is kept.
    """
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (neck, neck))
    core = cv2.morphologyEx(backdrop.astype(np.uint8), cv2.MORPH_OPEN, disc)
    count, labels = cv2.connectedComponents(core, connectivity=4)
    if count <= 1:
        return backdrop
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, edge[edge > 0]).astype(np.uint8)
    reach: NDArray[np.bool_] = cv2.dilate(outside, disc).astype(bool)
    return backdrop & reach


def _hull_solidity(mask: NDArray[np.bool_]) -> float:
    """Share of the convex hull the cut-out fills: a white garment on white leaks away, leaving
    a hollow figure (arms, collar, legs) far below the 0.75-1.0 of a piece that was cut cleanly."""
    points = cv2.findNonZero(mask.astype(np.uint8))
    hull = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    return float(mask.sum() / max(1, int(hull.sum())))


def _trim(rgb: RGB, top: int, bottom: int, left: int, right: int) -> RGB:
    """Trim a plain margin, keeping some air, so the piece fills its card."""
    h, w = rgb.shape[:2]
    pad = int(0.06 * max(h, w))
    return np.ascontiguousarray(
        rgb[max(0, top - pad) : min(h, bottom + pad), max(0, left - pad) : min(w, right + pad)]
    )


def _as_rgb(image: RGB) -> RGB:
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"an item image must be an H×W×3 RGB array, got shape {array.shape}")
    if array.dtype != np.uint8:
        raise ValueError(f"an item image must be uint8, got {array.dtype}")
    return np.ascontiguousarray(array[:, :, :3])


def _resize(array: NDArray[Any], width: int, height: int) -> NDArray[Any]:
    shrinking = width < array.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(array, (width, height), interpolation=interpolation))


def _rounded_mask(width: int, height: int, radius: int) -> Alpha:
    """An anti-aliased rounded rectangle, drawn four times larger and shrunk."""
    scale = 4
    big = Image.new("L", (width * scale, height * scale), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, width * scale - 1, height * scale - 1), radius=radius * scale, fill=255
    )
    small = big.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.float32) / 255.0


# ------------------------------------------------------------------------------------------- layout

# Rank: which column and how high a slot sits; weight: how much height its cell gets.
_SLOT_WORDS: tuple[tuple[tuple[str, ...], int, float], ...] = (
    (("dress", "jumpsuit", "saree", "one-piece", "连衣裙", "旗袍"), 0, 1.6),
    (("outer", "coat", "jacket", "blazer", "外套", "大衣", "夹克"), 0, 1.2),
    (("shoe", "foot", "sneaker", "heel", "boot", "sandal", "flat", "鞋", "靴"), 2, 0.8),
    (("bottom", "pant", "trouser", "jean", "skirt", "short", "legging", "裤", "裙"), 1, 1.15),
    (("top", "shirt", "tee", "blouse", "sweater", "kurta", "上衣", "衫"), 0, 1.15),
    (("bag", "purse", "tote", "backpack", "包"), 3, 1.0),
)


def _slot_rank(slot: str) -> tuple[int, float]:
    label = slot.strip().lower()
    for words, rank, weight in _SLOT_WORDS:
        if any(word in label for word in words):
            return rank, weight
    return 3, 0.8  # accessories and anything unnamed: the side column


@dataclass(frozen=True)
class _Cell:
    index: int
    x: int
    y: int
    width: int
    height: int


def _columns(items: Sequence[BoardItem]) -> list[list[int]]:
    """Tops and bottoms on the left, shoes below them, bags and accessories on the right."""
    ranks = [_slot_rank(item.slot)[0] for item in items]
    main = sorted((i for i, r in enumerate(ranks) if r <= 1), key=lambda i: (ranks[i], i))
    shoes = [i for i, r in enumerate(ranks) if r == 2]
    side = [i for i, r in enumerate(ranks) if r == 3]
    left, right = main + shoes, list(side)
    if shoes and main and len(left) - len(right) >= 2 and (right or len(left) >= 3):
        # Shoes move to the foot of the right column: still the lowest piece on their side.
        left, right = list(main), side + shoes
    while len(left) >= 3 and len(left) - len(right) >= 2:
        right.insert(0, left.pop(len(left) - 1 - sum(1 for i in left if ranks[i] == 2)))
    while len(right) >= 3 and len(right) - len(left) >= 2:
        left.insert(len(left) - sum(1 for i in left if ranks[i] == 2), right.pop(0))
    return [column for column in (left, right) if column]


def _rows(column: list[int], max_rows: int) -> list[list[int]]:
    """A long column becomes a two-wide grid read row by row, so tops still sit above bottoms."""
    if len(column) <= max_rows:
        return [[i] for i in column]
    return [column[k : k + 2] for k in range(0, len(column), 2)]


def _layout(items: Sequence[BoardItem], x0: int, y0: int, x1: int, y1: int, gutter: int) -> list[_Cell]:
    """Rows sized by slot weight on one scale for both columns, so a lone bag is not blown up to
    fill a column; a shorter column spreads out, with its shoes at the foot of the board."""
    width, height = x1 - x0, y1 - y0
    max_rows = 3 if height >= 0.8 * width else 2  # a wide board has no room for three rows
    columns = [_rows(column, max_rows) for column in _columns(items)]
    if len(columns) == 1:
        widths = [width]
    else:
        left = int((width - gutter) * 0.56)
        widths = [left, width - gutter - left]
    weights = [[max(_slot_rank(items[i].slot)[1] for i in row) for row in rows] for rows in columns]
    scale = min((height - gutter * (len(w) - 1)) / sum(w) for w in weights)
    cells: list[_Cell] = []
    x = x0
    for rows, row_weights, column_width in zip(columns, weights, widths, strict=True):
        heights = [weight * scale for weight in row_weights]
        spare = height - sum(heights) - gutter * (len(rows) - 1)
        ends_in_shoes = any(_slot_rank(items[i].slot)[0] == 2 for i in rows[-1])
        if ends_in_shoes and len(rows) > 1:
            step, y = gutter + spare / (len(rows) - 1), float(y0)
        elif ends_in_shoes:
            step, y = 0.0, float(y0) + spare
        else:
            step, y = gutter + spare / (len(rows) + 1), float(y0) + spare / (len(rows) + 1)
        for row, row_height in zip(rows, heights, strict=True):
            cell_width = (column_width - gutter * (len(row) - 1)) / len(row)
            for k, i in enumerate(row):
                cell_x = x + k * (cell_width + gutter)
                cells.append(_Cell(i, round(cell_x), round(y), round(cell_width), round(row_height)))
            y += row_height + step
        x += column_width + gutter
    return sorted(cells, key=lambda cell: cell.index)


# -------------------------------------------------------------------------------------------- board


@dataclass(frozen=True)
class _Placed:
    rgb: RGB
    alpha: Alpha
    x: int
    y: int


def compose_board(
    items: Sequence[BoardItem],
    *,
    title: str | None = None,
    note: str | None = None,
    size: tuple[int, int] = (1024, 1024),
    background: tuple[int, int, int] = (247, 245, 242),
) -> RGB:
    """Lay the pieces of one outfit out on a board and return it as an H×W×3 RGB array."""
    if not items:
        raise ValueError("an outfit board needs at least one item, got none")
    if len(items) > MAX_ITEMS:
        raise ValueError(f"an outfit board holds at most {MAX_ITEMS} items, got {len(items)}")
    width, height = size
    if not (256 <= width <= 4096 and 256 <= height <= 4096):
        raise ValueError(f"board size must be between 256 and 4096 pixels a side, got {size}")

    unit = min(width, height)
    margin = round(0.045 * unit)
    gutter = round(0.03 * unit)
    title_size = max(12, round(0.042 * unit))
    name_size = max(10, round(0.021 * unit))
    meta_size = max(9, round(0.018 * unit))
    note_size = max(10, round(0.02 * unit))
    caption_height = round(name_size * 1.35 + meta_size * 1.4 + 0.012 * unit)

    top = margin
    title_text = " ".join((title or "").split())
    if title_text:
        top = margin + round(title_size * 1.25) + round(0.03 * unit)
    bottom = height - margin
    note_text = " ".join((note or "").split())
    if note_text:
        bottom -= round(note_size * 1.6)

    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = np.asarray(background, np.float32)
    shadow = np.zeros((height, width), np.float32)
    cells = _layout(items, margin, top, width - margin, bottom, gutter)
    placed: list[_Placed] = []
    for cell in cells:
        box_w, box_h = cell.width, max(8, cell.height - caption_height)
        placed.append(_place(items[cell.index], cell.x, cell.y, box_w, box_h, unit))

    dx, dy = round(0.004 * unit), round(0.01 * unit)
    for piece in placed:
        h, w = piece.alpha.shape
        region = shadow[piece.y + dy : piece.y + dy + h, piece.x + dx : piece.x + dx + w]
        np.maximum(region, piece.alpha[: region.shape[0], : region.shape[1]], out=region)
    sigma = 0.012 * unit
    shadow = np.asarray(cv2.GaussianBlur(shadow, (0, 0), sigma), np.float32)
    canvas *= (1.0 - 0.28 * shadow)[:, :, None]
    for piece in placed:
        h, w = piece.alpha.shape
        alpha = piece.alpha[:, :, None]
        target = canvas[piece.y : piece.y + h, piece.x : piece.x + w]
        target[:] = target * (1.0 - alpha) + piece.rgb.astype(np.float32) * alpha

    board = Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(board)
    if title_text:
        fitted = _fit_text(title_text, title_size, width - 2 * margin, bold=True)
        _draw_text(draw, fitted, width / 2, margin + title_size, title_size, _INK, bold=True, align="center")
        rule_y = margin + round(title_size * 1.25) + round(0.012 * unit)
        rule_half = round(0.06 * unit)
        draw.line((width / 2 - rule_half, rule_y, width / 2 + rule_half, rule_y), fill=_RULE, width=2)
    for cell, piece in zip(cells, placed, strict=True):
        _caption(draw, items[cell.index], cell, piece, name_size, meta_size, unit)
    if note_text:
        fitted = _fit_text(note_text, note_size, width - 2 * margin)
        _draw_text(draw, fitted, width / 2, height - margin, note_size, _MUTED, align="center")
    return np.asarray(board, dtype=np.uint8)


def _place(item: BoardItem, x: int, y: int, box_w: int, box_h: int, unit: int) -> _Placed:
    """Scale a piece into its box: bottom-centred, so captions sit just under the pieces."""
    radius = max(4, round(0.016 * unit))
    if item.image is None:
        w = min(box_w, round(box_h * 0.8))
        h = box_h
        rgb = np.empty((h, w, 3), np.uint8)
        rgb[:] = _PLACEHOLDER
        alpha = _rounded_mask(w, h, radius)
        return _Placed(rgb, alpha, x + (box_w - w) // 2, y + box_h - h)

    photo = _prepare_photo(item.image)
    src_h, src_w = photo.rgb.shape[:2]
    pad = 0 if photo.alpha is not None else max(4, round(0.012 * unit))
    scale = min((box_w - 2 * pad) / src_w, (box_h - 2 * pad) / src_h)
    w, h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    rgb = np.asarray(_resize(photo.rgb, w, h), np.uint8)
    if photo.alpha is not None:
        alpha = np.clip(np.asarray(_resize(photo.alpha, w, h), np.float32), 0.0, 1.0)
    else:
        card = np.empty((h + 2 * pad, w + 2 * pad, 3), np.uint8)
        card[:] = photo.backdrop
        card[pad : pad + h, pad : pad + w] = rgb
        rgb, (h, w) = card, card.shape[:2]
        alpha = _rounded_mask(w, h, radius)
    return _Placed(rgb, alpha, x + (box_w - w) // 2, y + box_h - h)


def _caption(
    draw: ImageDraw.ImageDraw,
    item: BoardItem,
    cell: _Cell,
    piece: _Placed,
    name_size: int,
    meta_size: int,
    unit: int,
) -> None:
    centre = cell.x + cell.width / 2
    piece_h, piece_w = piece.alpha.shape
    name_baseline = piece.y + piece_h + round(0.012 * unit) + name_size
    name = _fit_text(item.name, name_size, cell.width - 4)
    _draw_text(draw, name, centre, name_baseline, name_size, _INK, align="center")
    meta = " · ".join(part for part in (item.slot.strip().lower(), (item.price or "").strip()) if part)
    if meta:
        meta = _fit_text(meta, meta_size, cell.width - 4)
        meta_baseline = name_baseline + round(meta_size * 1.4)
        _draw_text(draw, meta, centre, meta_baseline, meta_size, _MUTED, align="center")
    if item.image is None:
        label_size = max(10, round(0.02 * unit))
        middle = piece.y + piece_h / 2 + label_size / 3
        _draw_text(draw, "no photo", piece.x + piece_w / 2, middle, label_size, _MUTED, align="center")
    if item.owned:
        badge_size = max(9, round(0.016 * unit))
        label = "yours"
        text_w = _text_width(label, badge_size, bold=True)
        bx = piece.x + round(0.008 * unit)
        by = piece.y + round(0.008 * unit)
        bw, bh = round(text_w + badge_size * 1.2), round(badge_size * 1.7)
        draw.rounded_rectangle((bx, by, bx + bw, by + bh), radius=bh // 2, fill=_BADGE)
        baseline = by + bh / 2 + badge_size * 0.36
        _draw_text(draw, label, bx + bw / 2, baseline, badge_size, (255, 255, 255), bold=True, align="center")


def encode_png(rgb: RGB) -> bytes:
    """PNG bytes of a board; deterministic, so equal boards give equal bytes."""
    buffer = io.BytesIO()
    Image.fromarray(_as_rgb(rgb), "RGB").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
