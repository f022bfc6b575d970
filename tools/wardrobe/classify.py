"""What a wardrobe photo shows (T-shirt, sneakers, backpack...), from the image and from the caption.

No pretrained vision weights ship with the project, so the image side is a small linear model over
hand-made features of the photo and its segmentation: the garment's silhouette (box aspect, fill,
Hu moments, a coarse 12x12 mask), a HOG of the garment crop, whether a person wears it, and colour
statistics. It is trained on the 300 catalogue thumbnails the repository ships, so it knows only
the article types seen there often enough (``MIN_EXAMPLES``); rarer types are learned as their coarse
``ItemKind`` (label ``"outerwear"``, ``"bag"``...), which is still useful for outfits.

The caption side is zero-shot: all-MiniLM-L6-v2 cosine between the caption and a few English
descriptions per category, plus English and Chinese keyword lexicons (MiniLM is English-only, and a
word like "运动鞋" or "tee" is far stronger evidence than any cosine). Keywords dominate when present.

The two are combined log-linearly, ``log p_image + w * log p_caption``, with ``w`` chosen by
cross-validation on training data only, so that a person calling a worn T-shirt "my blue shirt"
still gets a T-shirt.

The fitted weights are plain numpy arrays in the ``tools.artifacts`` format (npz + manifest with
sha256), so loading a model never unpickles anything and serving needs no scikit-learn.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from skimage.feature import hog
from threadpoolctl import threadpool_limits

from graphs.vocabulary import ARTICLE_KIND, ItemKind, article_kind
from tools.artifacts import (
    ModelArtifactError,
    artifact_folder,
    list_versions,
    read_artifact,
    version_name,
    write_artifact,
)

Floats = np.ndarray[Any, np.dtype[np.float64]]

FEATURE_VERSION = "wardrobe-shape-hog-v1"
#: Article types with fewer training photos than this are learned as their ItemKind.
MIN_EXAMPLES = 5
#: Inverse L2 strength of the logistic regression, fixed a priori (not tuned on the reported folds).
REGULARISATION_C = 0.05
#: Caption weight when no captions were available to tune it.
DEFAULT_CAPTION_WEIGHT = 1.0
CAPTION_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
SEED = 20260512
_VERSION = re.compile(r"^wardrobe-category-\d{14}-[0-9a-f]{8}$")

_WORK_SIDE = 128
_MASK_GRID = 12
_HOG_SIDE = 64


def default_model_dir() -> Path:
    """Where versions live when no folder is given: the cache, like the other trained models."""
    cache = Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun"))
    return cache / "models" / "wardrobe"


def label_kind(label: str) -> ItemKind:
    """The ItemKind of a model label, which is either a catalogue article type or a kind's value."""
    try:
        return ItemKind(label)
    except ValueError:
        return article_kind(label)


def is_article_label(label: str) -> bool:
    return label in ARTICLE_KIND or label in CAPTION_DESCRIPTIONS


def training_label(article_type: str, common: set[str]) -> str:
    """An article type when it is common enough to learn, else its kind's value."""
    return article_type if article_type in common else article_kind(article_type).value


# --- image features -------------------------------------------------------------------------------


def _box(mask: np.ndarray[Any, Any]) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return 0, 0, mask.shape[1], mask.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _skin_fraction(hsv: np.ndarray[Any, Any]) -> float:
    """Share of skin-toned pixels: a second signal, beside the segmenter's, that the item is worn."""
    if hsv.size == 0:
        return 0.0
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    skin = ((h <= 25) | (h >= 170)) & (s >= 40) & (s <= 170) & (v >= 80)
    return float(skin.mean())


class Segmented(Protocol):
    """What the features need of a ``tools.wardrobe.segment.Segmentation``."""

    @property
    def mask(self) -> np.ndarray[Any, Any]: ...

    @property
    def person(self) -> bool: ...


def image_features(rgb: np.ndarray[Any, Any], segmentation: Segmented) -> Floats:
    """One fixed-length vector per photo; the same code runs at training and at serving time."""
    mask_full = np.asarray(segmentation.mask, dtype=bool)
    height, width = mask_full.shape
    scale = _WORK_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = cv2.resize(np.ascontiguousarray(rgb[..., :3], dtype=np.uint8), size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask_full.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    if not mask.any():
        mask = np.ones_like(mask)
    h, w = mask.shape
    x0, y0, x1, y1 = _box(mask)
    bw, bh = x1 - x0, y1 - y0
    area = float(mask.sum())
    shape = [
        np.log(bh / bw),
        area / (bw * bh),
        area / (h * w),
        bw / w,
        bh / h,
        (x0 + x1) / (2 * w),
        (y0 + y1) / (2 * h),
        float(segmentation.person),
    ]
    hu = cv2.HuMoments(cv2.moments(mask.astype(np.uint8), binaryImage=True)).ravel()
    hu_log = -np.sign(hu) * np.log10(np.abs(hu) + 1e-30)
    hu_log = np.clip(hu_log, -30, 30) / 10.0

    crop_mask = mask[y0:y1, x0:x1].astype(np.float32)
    coarse = cv2.resize(crop_mask, (_MASK_GRID, _MASK_GRID), interpolation=cv2.INTER_AREA).ravel()

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    garment = np.where(mask, grey, 1.0)[y0:y1, x0:x1]
    side = max(bw, bh)
    square = np.ones((side, side), np.float32)
    oy, ox = (side - bh) // 2, (side - bw) // 2
    square[oy : oy + bh, ox : ox + bw] = garment
    resized = cv2.resize(square, (_HOG_SIDE, _HOG_SIDE), interpolation=cv2.INTER_AREA)
    gradients = hog(resized, orientations=9, pixels_per_cell=(16, 16), cells_per_block=(2, 2))
    whole = cv2.resize(grey, (8, 8), interpolation=cv2.INTER_AREA).ravel()

    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
    inside = lab[mask]
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    colour = [*inside.mean(axis=0), *inside.std(axis=0), _skin_fraction(hsv), _skin_fraction(hsv[~mask])]
    out: Floats = np.concatenate(
        [np.asarray(shape), hu_log, coarse, gradients, whole, np.asarray(colour, np.float64)]
    ).astype(np.float64)
    return out


# --- the image model ------------------------------------------------------------------------------


def _softmax(z: Floats) -> Floats:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: Floats = e / e.sum(axis=-1, keepdims=True)
    return out


@dataclass
class CategoryModel:
    """A multinomial logistic regression over standardised ``image_features``."""

    labels: list[str]
    mean: Floats
    scale: Floats
    coef: Floats  # (labels, features)
    intercept: Floats  # (labels,)
    caption_weight: float = DEFAULT_CAPTION_WEIGHT
    version: str = "unsaved"
    manifest: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, features: Floats) -> Floats:
        """Rows of probabilities over ``labels``, one per feature row."""
        x = (np.atleast_2d(np.asarray(features, np.float64)) - self.mean) / self.scale
        return _softmax(x @ self.coef.T + self.intercept)

    def predict(self, features: Floats) -> list[tuple[str, float]]:
        """(label, probability), best first, for one photo's features."""
        probs = self.probabilities(features)[0]
        order = np.argsort(-probs)
        return [(self.labels[i], float(probs[i])) for i in order]

    def combine(
        self, image_probs: Sequence[tuple[str, float]], caption_probs: Mapping[str, float] | None
    ) -> list[tuple[str, float]]:
        return combine(image_probs, caption_probs, weight=self.caption_weight)

    def save(self, model_root: Path) -> Path:
        """Write ``<model_root>/<version>/`` and return it; a version folder is never overwritten."""
        folder = model_root / self.version
        self.manifest = write_artifact(
            folder,
            {"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept},
            {
                **self.manifest,
                "version": self.version,
                "feature_version": FEATURE_VERSION,
                "labels": self.labels,
                "caption_weight": self.caption_weight,
            },
        )
        return folder

    @classmethod
    def load(cls, path: Path, version: str | None = None) -> CategoryModel | None:
        """The version in ``path`` (a version folder, or a root whose newest version is taken);
        None when the root holds none. Raises ``ModelArtifactError`` for damaged files."""
        folder = artifact_folder(path, version, _VERSION, "wardrobe category model")
        if folder is None:
            return None
        arrays, manifest = read_artifact(folder, FEATURE_VERSION)
        try:
            parts = {k: np.asarray(arrays[k], np.float64) for k in ("mean", "scale", "coef", "intercept")}
            labels = [str(label) for label in manifest["labels"]]
        except (KeyError, TypeError) as error:
            raise ModelArtifactError(f"corrupt wardrobe category model in {folder}: {error}") from error
        if parts["coef"].shape[0] != len(labels):
            raise ModelArtifactError(f"{folder.name}: {len(labels)} labels for {parts['coef'].shape[0]} rows")
        return cls(
            labels=labels,
            caption_weight=float(manifest.get("caption_weight", DEFAULT_CAPTION_WEIGHT)),
            version=str(manifest.get("version", folder.name)),
            manifest=manifest,
            **parts,
        )


def versions(model_root: Path) -> list[str]:
    return list_versions(model_root, _VERSION)


def fit_image_model(features: Floats, labels: Sequence[str], *, c: float | None = None) -> CategoryModel:
    """Fit on rows of ``image_features``; the weights are copied out of scikit-learn."""
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    classes = sorted(set(labels))
    if len(classes) == 1:
        return CategoryModel(
            labels=classes,
            mean=mean,
            scale=scale,
            coef=np.zeros((1, x.shape[1])),
            intercept=np.zeros(1),
        )
    clf = LogisticRegression(C=REGULARISATION_C if c is None else c, max_iter=500)
    # OpenBLAS threads busy-wait: on a small shared machine one thread is several times faster.
    with threadpool_limits(limits=1):
        clf.fit((x - mean) / scale, list(labels))
    coef = np.asarray(clf.coef_, np.float64)
    intercept = np.asarray(clf.intercept_, np.float64)
    if len(clf.classes_) == 2:  # scikit-learn keeps one row for two classes
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return CategoryModel(
        labels=[str(c_) for c_ in clf.classes_], mean=mean, scale=scale, coef=coef, intercept=intercept
    )


def out_of_fold(
    features: Floats, labels: Sequence[str], *, folds: int = 5, seed: int = SEED
) -> list[list[tuple[str, float]]]:
    """Image predictions where each row comes from a model that never saw it."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    out: list[list[tuple[str, float]]] = [[] for _ in labels]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes smaller than the fold count
        for train_rows, test_rows in splitter.split(features, y):
            model = fit_image_model(features[train_rows], list(y[train_rows]))
            probs = model.probabilities(features[test_rows])
            for row, p in zip(test_rows, probs, strict=True):
                order = np.argsort(-p)
                out[row] = [(model.labels[i], float(p[i])) for i in order]
    return out


def tune_caption_weight(
    image_predictions: Sequence[Sequence[tuple[str, float]]],
    captions: Sequence[Mapping[str, float] | None],
    labels: Sequence[str],
) -> float:
    """The caption weight with the best accuracy on these (out-of-fold, training-side) predictions;
    ties go to the smaller weight, the image model being the one trained on this data."""
    best, best_hits = DEFAULT_CAPTION_WEIGHT, -1
    for weight in CAPTION_WEIGHTS:
        hits = sum(
            combine(pred, cap, weight=weight)[0][0] == label
            for pred, cap, label in zip(image_predictions, captions, labels, strict=True)
        )
        if hits > best_hits:
            best, best_hits = weight, hits
    return best


def train_category_model(
    features: Floats,
    article_types: Sequence[str],
    captions: Sequence[Mapping[str, float] | None] | None = None,
    *,
    seed: int = SEED,
) -> CategoryModel:
    """The served model: fitted on every row, its caption weight tuned on out-of-fold predictions."""
    counts: dict[str, int] = {}
    for article in article_types:
        counts[article] = counts.get(article, 0) + 1
    common = {a for a, n in counts.items() if n >= MIN_EXAMPLES}
    labels = [training_label(a, common) for a in article_types]
    model = fit_image_model(features, labels)
    weight = DEFAULT_CAPTION_WEIGHT
    if captions is not None and any(c is not None for c in captions):
        weight = tune_caption_weight(out_of_fold(features, labels, seed=seed), captions, labels)
    model.caption_weight = weight
    fingerprint = f"{FEATURE_VERSION}|{len(labels)}|{sorted(counts.items())}|{weight}|{seed}"
    model.version = version_name("wardrobe-category", fingerprint)
    model.manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(labels),
        "min_examples": MIN_EXAMPLES,
        "regularisation_c": REGULARISATION_C,
        "captions_used": captions is not None and any(c is not None for c in captions),
    }
    return model


# --- captions -------------------------------------------------------------------------------------

#: English phrasings per category for the zero-shot cosine; categories beyond the 300 thumbnails are
#: included so a caption can still name them (the image model then contributes their kind).
CAPTION_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "Tshirts": ("a t-shirt", "a tee", "a short-sleeved cotton t-shirt", "a polo t-shirt"),
    "Shirts": ("a button-down shirt", "a collared shirt", "a formal shirt"),
    "Tops": ("a women's top", "a blouse", "a tank top"),
    "Sweatshirts": ("a sweatshirt", "a hoodie"),
    "Sweaters": ("a knitted sweater", "a wool jumper", "a cardigan"),
    "Jackets": ("a jacket", "a windcheater", "a coat"),
    "Blazers": ("a blazer", "a suit jacket"),
    "Dresses": ("a dress", "a summer dress"),
    "Skirts": ("a skirt",),
    "Shorts": ("shorts", "a pair of shorts"),
    "Track Pants": ("track pants", "joggers", "sweatpants"),
    "Jeans": ("jeans", "denim jeans"),
    "Trousers": ("trousers", "pants", "chinos"),
    "Capris": ("capris", "cropped pants"),
    "Swimwear": ("a swimsuit", "swimwear", "swim trunks"),
    "Sports Shoes": ("running shoes", "trainers", "sneakers", "sports shoes"),
    "Casual Shoes": ("casual shoes", "sneakers", "loafers", "canvas shoes"),
    "Formal Shoes": ("formal shoes", "leather oxford shoes", "dress shoes"),
    "Heels": ("high heels", "heeled shoes", "stilettos"),
    "Flats": ("flat shoes", "ballet flats"),
    "Sandals": ("sandals",),
    "Flip Flops": ("flip flops", "slippers", "slides"),
    "Backpacks": ("a backpack", "a rucksack", "a school bag"),
    "Handbags": ("a handbag", "a purse", "a tote bag"),
    "Caps": ("a cap", "a baseball cap", "a hat"),
    "Watches": ("a wrist watch",),
    "Belts": ("a belt",),
    "Sunglasses": ("sunglasses",),
    "Socks": ("socks",),
    "Water Bottle": ("a water bottle", "a sipper bottle"),
    "Footballs": ("a football", "a soccer ball"),
    "Basketballs": ("a basketball",),
}

_SHOES = ("Casual Shoes", "Sports Shoes", "Formal Shoes")
_BAGS = ("Handbags", "Backpacks")

#: English words that name a category outright. Multi-word terms are matched before their parts.
ENGLISH_KEYWORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(["t-shirt", "t shirt", "tshirt", "tee", "jersey", "polo", "polo shirt"], ("Tshirts",)),
    **dict.fromkeys(["shirt", "button-down", "button down", "oxford shirt", "dress shirt"], ("Shirts",)),
    **dict.fromkeys(["top", "blouse", "tank top", "camisole", "crop top", "tunic"], ("Tops",)),
    **dict.fromkeys(["sweatshirt", "hoodie", "hoody"], ("Sweatshirts",)),
    **dict.fromkeys(["sweater", "jumper", "cardigan", "pullover"], ("Sweaters",)),
    **dict.fromkeys(["jacket", "windcheater", "windbreaker", "coat", "bomber", "parka"], ("Jackets",)),
    **dict.fromkeys(["blazer", "suit jacket"], ("Blazers",)),
    **dict.fromkeys(["dress", "sundress", "frock"], ("Dresses",)),
    **dict.fromkeys(["skirt"], ("Skirts",)),
    **dict.fromkeys(["shorts", "bermudas"], ("Shorts",)),
    **dict.fromkeys(["track pant", "trackpant", "jogger", "sweatpant"], ("Track Pants",)),
    **dict.fromkeys(["jeans"], ("Jeans",)),
    **dict.fromkeys(["trousers", "pants", "chinos", "slacks"], ("Trousers",)),
    **dict.fromkeys(["capris", "capri"], ("Capris",)),
    **dict.fromkeys(["swimsuit", "swimwear", "bikini", "swim trunks", "trunks"], ("Swimwear",)),
    **dict.fromkeys(
        ["running shoe", "trainer", "sports shoe", "sport shoe", "football boot", "studs", "runner"],
        ("Sports Shoes",),
    ),
    "sneaker": ("Sports Shoes", "Casual Shoes"),
    **dict.fromkeys(["loafer", "casual shoe", "canvas shoe", "boat shoe", "slip-on"], ("Casual Shoes",)),
    **dict.fromkeys(["formal shoe", "oxford", "brogue", "derbies", "dress shoe"], ("Formal Shoes",)),
    **dict.fromkeys(["heel", "high heel", "stiletto", "pump", "wedge"], ("Heels",)),
    **dict.fromkeys(["flats", "ballerina", "ballet flat"], ("Flats",)),
    **dict.fromkeys(["sandals", "sandal"], ("Sandals",)),
    **dict.fromkeys(["flip flop", "flipflop", "slipper", "slides"], ("Flip Flops",)),
    **dict.fromkeys(["shoe", "footwear", "kicks"], _SHOES),
    **dict.fromkeys(["backpack", "rucksack", "school bag", "daypack"], ("Backpacks",)),
    **dict.fromkeys(["handbag", "purse", "tote", "shoulder bag", "clutch"], ("Handbags",)),
    **dict.fromkeys(["bag"], _BAGS),
    **dict.fromkeys(["cap", "hat", "beanie"], ("Caps",)),
    **dict.fromkeys(["watch"], ("Watches",)),
    **dict.fromkeys(["belt"], ("Belts",)),
    **dict.fromkeys(["sunglasses", "shades"], ("Sunglasses",)),
    **dict.fromkeys(["sock"], ("Socks",)),
    **dict.fromkeys(["water bottle", "bottle", "sipper"], ("Water Bottle",)),
    **dict.fromkeys(["football", "soccer ball"], ("Footballs",)),
    **dict.fromkeys(["basketball"], ("Basketballs",)),
}

#: Chinese words, longest first at match time (运动鞋 before 鞋, 双肩包 before 包).
CHINESE_KEYWORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(["T恤", "t恤", "短袖", "体恤", "polo衫", "POLO衫", "球衣", "半袖"], ("Tshirts",)),
    **dict.fromkeys(["衬衫", "衬衣"], ("Shirts",)),
    **dict.fromkeys(["上衣", "吊带", "背心", "雪纺衫"], ("Tops",)),
    **dict.fromkeys(["卫衣", "连帽衫"], ("Sweatshirts",)),
    **dict.fromkeys(["毛衣", "针织衫", "开衫"], ("Sweaters",)),
    **dict.fromkeys(["夹克", "外套", "风衣", "大衣", "羽绒服", "冲锋衣"], ("Jackets",)),
    **dict.fromkeys(["西装外套", "西装"], ("Blazers",)),
    **dict.fromkeys(["连衣裙", "长裙"], ("Dresses",)),
    **dict.fromkeys(["裙子", "半身裙", "短裙"], ("Skirts",)),
    "裙": ("Skirts", "Dresses"),
    **dict.fromkeys(["短裤"], ("Shorts",)),
    **dict.fromkeys(["运动裤", "卫裤", "束脚裤"], ("Track Pants",)),
    **dict.fromkeys(["牛仔裤"], ("Jeans",)),
    **dict.fromkeys(["裤子", "长裤", "西裤", "休闲裤"], ("Trousers",)),
    **dict.fromkeys(["泳衣", "泳裤"], ("Swimwear",)),
    **dict.fromkeys(["运动鞋", "跑鞋", "跑步鞋", "球鞋", "足球鞋", "篮球鞋"], ("Sports Shoes",)),
    **dict.fromkeys(["休闲鞋", "板鞋", "帆布鞋", "小白鞋", "乐福鞋"], ("Casual Shoes",)),
    **dict.fromkeys(["皮鞋", "正装鞋"], ("Formal Shoes",)),
    **dict.fromkeys(["高跟鞋", "高跟"], ("Heels",)),
    **dict.fromkeys(["平底鞋"], ("Flats",)),
    **dict.fromkeys(["凉鞋"], ("Sandals",)),
    **dict.fromkeys(["拖鞋", "人字拖"], ("Flip Flops",)),
    **dict.fromkeys(["鞋", "鞋子"], _SHOES),
    **dict.fromkeys(["双肩包", "背包", "书包"], ("Backpacks",)),
    **dict.fromkeys(["手提包", "手袋", "挎包", "单肩包", "托特包", "钱包"], ("Handbags",)),
    "包": _BAGS,
    **dict.fromkeys(["帽子", "棒球帽", "鸭舌帽"], ("Caps",)),
    **dict.fromkeys(["手表"], ("Watches",)),
    **dict.fromkeys(["皮带", "腰带"], ("Belts",)),
    **dict.fromkeys(["墨镜", "太阳镜"], ("Sunglasses",)),
    **dict.fromkeys(["袜子"], ("Socks",)),
    **dict.fromkeys(["水杯", "水壶", "水瓶"], ("Water Bottle",)),
    **dict.fromkeys(["足球"], ("Footballs",)),
    **dict.fromkeys(["篮球"], ("Basketballs",)),
}

CAPTION_CATEGORIES: tuple[str, ...] = tuple(CAPTION_DESCRIPTIONS)
#: Share of a keyword-bearing caption's probability that goes to the named categories themselves,
#: to the other categories of the same kind (people call a tee a shirt), and to the MiniLM reading.
_KEYWORD_SHARE, _SIBLING_SHARE, _COSINE_SHARE = 0.75, 0.15, 0.10
#: Below this best cosine, a caption without keywords is taken to say nothing about category.
MIN_COSINE = 0.42
_TEMPERATURE = 0.05
_CJK = re.compile(r"[\u3400-\u9fff]")


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray[Any, Any]: ...


def _english_pattern() -> re.Pattern[str]:
    terms = sorted(ENGLISH_KEYWORDS, key=len, reverse=True)
    alternation = "|".join(re.escape(t).replace(r"\ ", r"[\s-]?") for t in terms)
    return re.compile(rf"(?<![a-z])({alternation})(?:e?s)?(?![a-z])")


_ENGLISH = _english_pattern()
_CHINESE_LOOKUP = {t.casefold(): v for t, v in CHINESE_KEYWORDS.items()}
_CHINESE_TERMS = sorted(_CHINESE_LOOKUP, key=len, reverse=True)
_ENGLISH_LOOKUP = {re.sub(r"[\s-]", "", t): v for t, v in ENGLISH_KEYWORDS.items()}


def keyword_hits(caption: str) -> list[tuple[str, ...]]:
    """Categories named in the caption, one tuple per word found (longest words win)."""
    text = caption.casefold()
    hits: list[tuple[str, ...]] = []
    for match in _ENGLISH.finditer(text):
        key = re.sub(r"[\s-]", "", match.group(1))
        if key in _ENGLISH_LOOKUP:
            hits.append(_ENGLISH_LOOKUP[key])
    remaining = text
    for term in _CHINESE_TERMS:
        while term in remaining:
            hits.append(_CHINESE_LOOKUP[term])
            remaining = remaining.replace(term, " ", 1)
    return hits


def _siblings(category: str) -> list[str]:
    kind = label_kind(category)
    return [c for c in CAPTION_CATEGORIES if label_kind(c) == kind and c != category]


class CaptionClassifier:
    """Zero-shot category probabilities for a caption; the description vectors are encoded once."""

    def __init__(self, encoder: TextEncoder | None) -> None:
        self.encoder = encoder
        self._lock = threading.Lock()
        self._descriptions: Floats | None = None
        self._owners: list[int] = []

    def _description_vectors(self, encoder: TextEncoder) -> tuple[Floats, list[int]]:
        with self._lock:
            if self._descriptions is None:
                texts: list[str] = []
                owners: list[int] = []
                for index, category in enumerate(CAPTION_CATEGORIES):
                    for phrase in CAPTION_DESCRIPTIONS[category]:
                        texts.append(f"a photo of {phrase}")
                        owners.append(index)
                self._descriptions = np.asarray(encoder.encode(texts), np.float64)
                self._owners = owners
            return self._descriptions, self._owners

    def cosine_scores(self, caption: str) -> Floats | None:
        """Best cosine per category, or None when there is no encoder or the text is not English."""
        if self.encoder is None or not re.search(r"[A-Za-z]{3,}", _CJK.sub(" ", caption)):
            return None
        vectors, owners = self._description_vectors(self.encoder)
        query = np.asarray(self.encoder.encode([caption]), np.float64)[0]
        cosines = vectors @ query
        best = np.full(len(CAPTION_CATEGORIES), -1.0)
        np.maximum.at(best, np.asarray(owners), cosines)
        return best

    def scores(self, caption: str | None) -> dict[str, float] | None:
        """Probabilities over ``CAPTION_CATEGORIES``; None when the caption names no category."""
        if not caption or not caption.strip():
            return None
        hits = keyword_hits(caption)
        cosines = self.cosine_scores(caption)
        n = len(CAPTION_CATEGORIES)
        index = {c: i for i, c in enumerate(CAPTION_CATEGORIES)}
        if not hits:
            if cosines is None or float(cosines.max()) < MIN_COSINE:
                return None
            probs = _softmax(cosines / _TEMPERATURE)
            probs = 0.8 * probs + 0.2 / n  # a cosine alone is weak evidence
            return {c: float(probs[i]) for c, i in index.items()}
        named = np.zeros(n)
        siblings = np.zeros(n)
        for targets in hits:
            for target in targets:
                named[index[target]] += 1.0 / (len(targets) * len(hits))
                near = _siblings(target)
                for other in near:
                    siblings[index[other]] += 1.0 / (len(targets) * len(hits) * len(near))
        if siblings.sum() == 0:
            siblings = named.copy()
        siblings /= siblings.sum()
        reading = np.full(n, 1.0 / n) if cosines is None else _softmax(cosines / _TEMPERATURE)
        probs = _KEYWORD_SHARE * named + _SIBLING_SHARE * siblings + _COSINE_SHARE * reading
        probs /= probs.sum()
        return {c: float(probs[i]) for c, i in index.items()}


_DEFAULT: CaptionClassifier | None = None
_DEFAULT_LOCK = threading.Lock()


def default_caption_classifier() -> CaptionClassifier:
    """One per process, on the shared MiniLM encoder (90 MB of weights, loaded once)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            from rag.embeddings import default_encoder

            _DEFAULT = CaptionClassifier(default_encoder())
        return _DEFAULT


def caption_scores(caption: str) -> dict[str, float] | None:
    """Category probabilities read from a caption (English or Chinese); None when it names none."""
    return default_caption_classifier().scores(caption)


# --- combination ----------------------------------------------------------------------------------

_CAPTION_FLOOR = 0.05


def project_caption(caption_probs: Mapping[str, float], labels: Sequence[str]) -> Floats:
    """Caption probabilities moved onto the image model's labels: an article type it knows keeps
    its mass, any other goes to its kind's label. Uniform when none of it lands on a label."""
    position = {label: i for i, label in enumerate(labels)}
    out = np.zeros(len(labels))
    for category, p in caption_probs.items():
        if category in position:
            out[position[category]] += p
        else:
            kind = label_kind(category).value
            if kind in position:
                out[position[kind]] += p
    total = out.sum()
    out = out / total if total > 0 else np.full(len(labels), 1.0 / len(labels))
    mixed: Floats = (1 - _CAPTION_FLOOR) * out + _CAPTION_FLOOR / len(labels)
    return mixed


def combine(
    image_probs: Sequence[tuple[str, float]],
    caption_probs: Mapping[str, float] | None,
    *,
    weight: float = DEFAULT_CAPTION_WEIGHT,
) -> list[tuple[str, float]]:
    """``softmax(log p_image + weight * log p_caption)`` over the image labels, best first."""
    if not image_probs:
        if not caption_probs:
            return []
        return sorted(((c, float(p)) for c, p in caption_probs.items()), key=lambda cp: -cp[1])
    if not caption_probs or weight == 0:
        return sorted(((c, float(p)) for c, p in image_probs), key=lambda cp: -cp[1])
    labels = [label for label, _ in image_probs]
    image = np.clip(np.asarray([p for _, p in image_probs], np.float64), 1e-9, None)
    caption = project_caption(caption_probs, labels)
    probs = _softmax(np.log(image) + weight * np.log(caption))
    order = np.argsort(-probs)
    return [(labels[i], float(probs[i])) for i in order]
