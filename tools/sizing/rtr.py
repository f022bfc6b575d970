"""RentTheRunway fit feedback turned into what the fit model sees at run time: ``FitQuery`` + label.

The data (Misra, Wan, McAuley, RecSys 2018; see ``PROVENANCE.md`` next to the file) is
research-only: training and evaluation code read it from ``settings.research_data_dir``, and
nothing derived from single records is written into the repository.

**Split.** One fixed random split over records: ``numpy.random.default_rng(SEED)``
(``SEED = 20180``) permutes the record indices (after ``--limit``, if any); the first 80 % are
*train*, the next 10 % *validation*, the last 10 % *test*. Every choice (hyper-parameters,
early stopping, the baselines' regularisation) is made on validation; test is read only by
``python -m evals sizing``.

**Conversion.** RTR gives size *codes*, not centimetres, so the code's offset from the body is
learned from train rows labelled ``fit``: a ridge regression predicts the size code a body
"should" wear from its measurements, and the slope of size code on bust girth turns the code
difference into centimetres. ``offset_cm = (size - expected_size) / codes_per_cm``, so a size
above the expected one is roomier (positive), as a size chart's offset would be.

**Feedback statistics.** A person's, a product's and a product size's history of feedback are
features at run time. For a train row they are counted *out of fold* (5 folds over train,
seeded) so the row's own label never feeds its features; leave-one-out would leak it through
the count arithmetic. Validation and test rows see counts from all train rows.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.sizing.schemas import (
    FIT_LABELS,
    FeedbackStats,
    FitQuery,
    GarmentGroup,
    RtrBodyType,
)

Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]

SEED = 20180
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
N_FOLDS = 5
RIDGE_ALPHA = 1.0
INCH_CM = 2.54
LB_KG = 0.4536
DATA_RELATIVE = Path("renttherunway_fit") / "renttherunway_fit.jsonl.gz"

#: Cup letters to inches over the band (the parquet already folded dd into e, ddd/e into d).
CUP_INDEX: dict[str, int] = {
    "aa": 0,
    "a": 1,
    "b": 2,
    "c": 3,
    "d": 4,
    "dd": 5,
    "e": 5,
    "ddd": 6,
    "f": 6,
    "g": 7,
    "h": 8,
    "i": 9,
    "j": 10,
    "k": 11,
}

#: RTR's 68 categories (the last word of the product name) to garment groups; unknown -> other.
_CATEGORY_WORDS: dict[GarmentGroup, str] = {
    "dress": "dress gown sheath shift maxi mini midi shirtdress sundress frock ballgown kaftan caftan",
    "top": (
        "top blouse shirt tee t-shirt tank cami sweater cardigan knit sweatshirt sweatershirt tunic"
        " pullover turtleneck blouson hoodie henley crewneck buttondown"
    ),
    "outerwear": (
        "jacket coat blazer vest trench bomber parka down cape poncho peacoat overcoat duster kimono"
    ),
    "bottom": (
        "pants pant skirt skirts skort jeans leggings legging shorts culottes culotte trouser trousers"
        " tight jogger sweatpants"
    ),
    "one_piece": "jumpsuit romper overalls",
}
GROUP_OF_CATEGORY: dict[str, GarmentGroup] = {
    word: group for group, words in _CATEGORY_WORDS.items() for word in words.split()
}

BODY_TYPES: tuple[RtrBodyType, ...] = (
    "hourglass",
    "athletic",
    "pear",
    "petite",
    "full bust",
    "straight & narrow",
    "apple",
)
_COLUMNS = "user item child size label group category body bust cup height weight age"
_BRA = re.compile(r"^\s*(\d{2})\s*([a-z]+)")


def default_path(research_data_dir: Path) -> Path:
    return research_data_dir / DATA_RELATIVE


def garment_group(category: str | None) -> GarmentGroup:
    return GROUP_OF_CATEGORY.get((category or "").strip().lower(), "other")


def bra_to_bust_cm(bust_size: str | None) -> tuple[float, float]:
    """(bust girth in cm, cup index) from a bra size like ``34d``; NaNs when absent or unreadable."""
    match = _BRA.match((bust_size or "").lower())
    if match is None:
        return math.nan, math.nan
    band, letters = int(match.group(1)), match.group(2)
    cup = CUP_INDEX.get(letters)
    if cup is None:
        return math.nan, math.nan
    return (band + cup) * INCH_CM, float(cup)


@dataclass(frozen=True)
class RtrData:
    """Records as columns; floats are NaN where RTR has no value."""

    user: Ints
    item: Ints
    child: Ints  # (item, size) pairs
    size: Ints
    label: Ints  # index into FIT_LABELS
    group: tuple[GarmentGroup, ...]
    category: tuple[str, ...]
    body_type: tuple[RtrBodyType | None, ...]
    bust_cm: Floats
    cup: Floats
    height_cm: Floats
    weight_kg: Floats
    age: Floats
    sha256: str

    def __len__(self) -> int:
        return len(self.label)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def load(path: Path, limit: int | None = None) -> RtrData:
    """Read the first ``limit`` records (all when None) of the RTR JSON Lines file."""
    if not path.exists():
        raise FileNotFoundError(f"RentTheRunway data not found at {path} (see settings.research_data_dir)")
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    children: dict[tuple[int, int], int] = {}
    cols: dict[str, list[Any]] = {k: [] for k in _COLUMNS.split()}
    label_index = {label: i for i, label in enumerate(FIT_LABELS)}
    body_types = set(BODY_TYPES)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(cols["label"]) >= limit:
                break
            row = json.loads(line)
            user = users.setdefault(str(row["user_id"]), len(users))
            item = items.setdefault(str(row["item_id"]), len(items))
            size = int(row["size"])
            bust, cup = bra_to_bust_cm(row.get("bust_size"))
            body = row.get("body_type")
            category = str(row.get("category") or "")
            cols["user"].append(user)
            cols["item"].append(item)
            cols["child"].append(children.setdefault((item, size), len(children)))
            cols["size"].append(size)
            cols["label"].append(label_index[row["fit"]])
            cols["group"].append(garment_group(category))
            cols["category"].append(category)
            cols["body"].append(body if body in body_types else None)
            cols["bust"].append(bust)
            cols["cup"].append(cup)
            cols["height"].append(_float(row.get("height_in")) * INCH_CM)
            cols["weight"].append(_float(row.get("weight_lbs")) * LB_KG)
            cols["age"].append(_float(row.get("age")))
    ints = {k: np.asarray(cols[k], dtype=np.int64) for k in ("user", "item", "child", "size", "label")}
    floats = {k: np.asarray(cols[k], dtype=np.float64) for k in ("bust", "cup", "height", "weight", "age")}
    return RtrData(
        user=ints["user"],
        item=ints["item"],
        child=ints["child"],
        size=ints["size"],
        label=ints["label"],
        group=tuple(cols["group"]),
        category=tuple(cols["category"]),
        body_type=tuple(cols["body"]),
        bust_cm=floats["bust"],
        cup=floats["cup"],
        height_cm=floats["height"],
        weight_kg=floats["weight"],
        age=floats["age"],
        sha256=file_sha256(path),
    )


@dataclass(frozen=True)
class Split:
    train: Ints
    validation: Ints
    test: Ints

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


def split(n: int, seed: int = SEED) -> Split:
    """The fixed 80/10/10 split of ``n`` records (see the module docstring); indices sorted."""
    order = np.random.default_rng(seed).permutation(n)
    cut_train = int(SPLIT_FRACTIONS[0] * n)
    cut_val = int((SPLIT_FRACTIONS[0] + SPLIT_FRACTIONS[1]) * n)
    return Split(
        train=np.sort(order[:cut_train]),
        validation=np.sort(order[cut_train:cut_val]),
        test=np.sort(order[cut_val:]),
    )


# --- size code -> centimetres -------------------------------------------------------------------

_MEASURES = ("bust_cm", "cup", "height_cm", "weight_kg")


@dataclass(frozen=True)
class OffsetCoefficients:
    """The learned conversion from RTR size codes to ``offset_cm``; part of the model version."""

    medians: tuple[float, ...]  # imputation for _MEASURES
    coef: tuple[float, ...]  # ridge coefficients: _MEASURES, then their missing indicators
    intercept: float
    codes_per_cm: float  # slope of size code on bust girth among 'fit' rows
    alpha: float = RIDGE_ALPHA

    def as_dict(self) -> dict[str, Any]:
        return {"measures": list(_MEASURES), **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OffsetCoefficients:
        return cls(
            medians=tuple(data["medians"]),
            coef=tuple(data["coef"]),
            intercept=float(data["intercept"]),
            codes_per_cm=float(data["codes_per_cm"]),
            alpha=float(data.get("alpha", RIDGE_ALPHA)),
        )


def _design(data: RtrData, medians: Sequence[float]) -> Floats:
    raw = np.column_stack([getattr(data, name) for name in _MEASURES])
    missing = np.isnan(raw)
    filled = np.where(missing, np.asarray(medians, dtype=np.float64), raw)
    return np.hstack([filled, missing.astype(np.float64)])


def fit_offset(data: RtrData, train: Ints) -> OffsetCoefficients:
    """Ridge of size code on measurements, and size code on bust girth, over train 'fit' rows."""
    rows = train[data.label[train] == FIT_LABELS.index("fit")]
    raw = np.column_stack([getattr(data, name)[rows] for name in _MEASURES])
    medians = tuple(float(np.nanmedian(raw[:, j])) for j in range(raw.shape[1]))
    x = _design(data, medians)[rows]
    y = data.size[rows].astype(np.float64)
    mean_x, mean_y = x.mean(axis=0), y.mean()
    xc = x - mean_x
    coef = np.linalg.solve(xc.T @ xc + RIDGE_ALPHA * np.eye(x.shape[1]), xc.T @ (y - mean_y))
    has_bust = ~np.isnan(data.bust_cm[rows])
    bust, sizes = data.bust_cm[rows][has_bust], y[has_bust]
    slope = float(np.cov(bust, sizes)[0, 1] / np.var(bust, ddof=1))
    if not slope > 0:
        raise ValueError("size code does not grow with bust girth: cannot convert sizes to cm")
    return OffsetCoefficients(
        medians=medians,
        coef=tuple(float(c) for c in coef),
        intercept=float(mean_y - mean_x @ coef),
        codes_per_cm=slope,
    )


def expected_size(data: RtrData, coefficients: OffsetCoefficients) -> Floats:
    design = _design(data, coefficients.medians)
    out: Floats = design @ np.asarray(coefficients.coef) + coefficients.intercept
    return out


def offset_cm(data: RtrData, coefficients: OffsetCoefficients) -> Floats:
    out: Floats = (data.size - expected_size(data, coefficients)) / coefficients.codes_per_cm
    return out


# --- feedback statistics -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatColumns:
    """FeedbackStats for every record, as columns (n, small, large, offset_sum_cm)."""

    n: Ints
    small: Ints
    large: Ints
    offset_sum: Floats

    def at(self, row: int) -> FeedbackStats:
        return FeedbackStats(
            n=int(self.n[row]),
            small=int(self.small[row]),
            large=int(self.large[row]),
            offset_sum_cm=float(self.offset_sum[row]),
        )


def _count(keys: Ints, label: Ints, offsets: Floats, source: Ints, target: Ints, out: dict[str, Any]) -> None:
    size = int(keys.max()) + 1 if len(keys) else 1
    src = keys[source]
    n = np.bincount(src, minlength=size)
    small = np.bincount(src, weights=(label[source] == 0).astype(np.float64), minlength=size)
    large = np.bincount(src, weights=(label[source] == 2).astype(np.float64), minlength=size)
    total = np.bincount(src, weights=offsets[source], minlength=size)
    tgt = keys[target]
    out["n"][target] = n[tgt]
    out["small"][target] = np.rint(small[tgt]).astype(np.int64)
    out["large"][target] = np.rint(large[tgt]).astype(np.int64)
    out["offset_sum"][target] = total[tgt]


def folds(train: Ints, seed: int = SEED) -> Ints:
    """Fold number (0..N_FOLDS-1) of each train row, in ``train``'s order."""
    out: Ints = np.random.default_rng(seed + 1).integers(0, N_FOLDS, len(train))
    return out


def feedback_stats(keys: Ints, label: Ints, offsets: Floats, train: Ints, seed: int = SEED) -> StatColumns:
    """Per record: out-of-fold counts for train rows, counts over all train rows for the others."""
    n_rows = len(keys)
    out: dict[str, Any] = {
        "n": np.zeros(n_rows, np.int64),
        "small": np.zeros(n_rows, np.int64),
        "large": np.zeros(n_rows, np.int64),
        "offset_sum": np.zeros(n_rows, np.float64),
    }
    others = np.setdiff1d(np.arange(n_rows), train)
    _count(keys, label, offsets, train, others, out)
    fold = folds(train, seed)
    for f in range(N_FOLDS):
        _count(keys, label, offsets, train[fold != f], train[fold == f], out)
    return StatColumns(**out)


@dataclass(frozen=True)
class Prepared:
    """Everything training and evaluation need: the data, its split, the conversion and the stats."""

    data: RtrData
    split: Split
    seed: int
    coefficients: OffsetCoefficients
    offset: Floats
    person: StatColumns
    product: StatColumns
    product_size: StatColumns

    def queries(self, rows: Ints) -> list[FitQuery]:
        d = self.data
        return [
            FitQuery(
                offset_cm=float(self.offset[i]),
                group=d.group[i],
                height_cm=_opt(d.height_cm[i]),
                weight_kg=_opt(d.weight_kg[i]),
                bust_cm=_opt(d.bust_cm[i]),
                age=_opt(d.age[i]),
                body_type=d.body_type[i],
                person=self.person.at(i),
                product=self.product.at(i),
                product_size=self.product_size.at(i),
            )
            for i in rows.tolist()
        ]

    def labels(self, rows: Ints) -> Ints:
        out: Ints = self.data.label[rows]
        return out


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def prepare(data: RtrData, seed: int = SEED) -> Prepared:
    parts = split(len(data), seed)
    coefficients = fit_offset(data, parts.train)
    offsets = offset_cm(data, coefficients)
    return Prepared(
        data=data,
        split=parts,
        seed=seed,
        coefficients=coefficients,
        offset=offsets,
        person=feedback_stats(data.user, data.label, offsets, parts.train, seed),
        product=feedback_stats(data.item, data.label, offsets, parts.train, seed),
        product_size=feedback_stats(data.child, data.label, offsets, parts.train, seed),
    )
