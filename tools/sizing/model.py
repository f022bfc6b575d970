"""The fit model: P(small), P(fit), P(large) for a person in one size of a product.

Features come only from a ``FitQuery`` (the garment's offset in cm, the garment group, the
person's measurements and body type, and raw feedback counts on the person, the product and
the product size), so a model trained on RentTheRunway answers for any shop whose sizes come
from charts and whose feedback comes from our own database. The counts are smoothed here, with
priors fitted at training and stored with the model, so the same raw counts mean the same thing
in training and at run time.

The classifier is a pair of scikit-learn histogram gradient boosting models (small vs rest,
large vs rest), monotone in the features that only a roomier size moves. Their trees are copied into flat
numpy arrays when trained, and those arrays are what is saved and evaluated: one product's
5-8 sizes are scored in well under a millisecond, without sklearn's per-call overhead
(thread pools, input validation), and loading never unpickles code. Each version lives in its
own folder ``<model_dir>/<version>/`` with ``model.npz`` and ``manifest.json``; the manifest
holds the model file's sha256, checked before the arrays are read (the format is
``tools.artifacts``, shared with the recommendation models).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import numpy as np

from tools.artifacts import MANIFEST_FILE as MANIFEST_FILE
from tools.artifacts import MODEL_FILE as MODEL_FILE
from tools.artifacts import ModelArtifactError as ModelArtifactError
from tools.artifacts import list_versions, read_artifact, version_folder, version_name, write_artifact
from tools.artifacts import read_manifest as read_manifest
from tools.sizing.schemas import FIT_LABELS, GARMENT_GROUPS, FeedbackStats, FitQuery, RtrBodyType

Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]

#: Bump when the features or their meaning change: a model of another feature version is not reused.
FEATURE_VERSION = "fitq-v2"
_CHUNK = 1024
_MIN_FIT = 1e-3
_VERSION = re.compile(r"^fit-[a-z0-9]+-\d{14}-[0-9a-f]{8}$")

BODY_TYPES: tuple[str, ...] = get_args(RtrBodyType)
_ENTITIES = ("person", "product", "product_size")
FEATURE_NAMES: tuple[str, ...] = (
    "offset_cm",
    "group",
    "height_cm",
    "weight_kg",
    "bust_cm",
    "age",
    "bmi",
    "body_type",
    *(
        f"{entity}_{name}"
        for entity in _ENTITIES
        for name in ("log_n", "small_rate", "large_rate", "offset_mean", "offset_vs_mean", "balance")
    ),
    "offset_vs_person_and_product",
)


#: Features that grow with the garment's roominess when only the size changes: the model is made
#: monotone in them (P(large) up, P(small) down). Unconstrained, it learns the opposite on RTR, where
#: a size above the measurement-based estimate mostly reveals a body bigger than its measurements say.
ROOMINESS_FEATURES: tuple[str, ...] = (
    "offset_cm",
    *(f"{entity}_offset_vs_mean" for entity in _ENTITIES),
    "offset_vs_person_and_product",
)


@dataclass(frozen=True)
class Priors:
    """Smoothing for feedback counts: each entity's rates shrink towards the training average."""

    small_rate: float
    large_rate: float
    offset_mean_cm: float
    weight: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_ENTITIES, 3.0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "small_rate": self.small_rate,
            "large_rate": self.large_rate,
            "offset_mean_cm": self.offset_mean_cm,
            "weight": dict(self.weight),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Priors:
        return cls(
            small_rate=float(data["small_rate"]),
            large_rate=float(data["large_rate"]),
            offset_mean_cm=float(data["offset_mean_cm"]),
            weight={k: float(v) for k, v in data["weight"].items()},
        )


def _value(x: float | None) -> float:
    return math.nan if x is None else float(x)


def features(queries: Sequence[FitQuery], priors: Priors) -> Floats:
    """The model's input matrix, one row per query, columns as ``FEATURE_NAMES``."""
    group_code = {g: float(i) for i, g in enumerate(GARMENT_GROUPS)}
    body_code = {b: float(i) for i, b in enumerate(BODY_TYPES)}
    offset = np.fromiter((q.offset_cm for q in queries), np.float64, len(queries))
    height = np.fromiter((_value(q.height_cm) for q in queries), np.float64, len(queries))
    weight = np.fromiter((_value(q.weight_kg) for q in queries), np.float64, len(queries))
    columns: list[Floats] = [
        offset,
        np.fromiter((group_code.get(q.group, math.nan) for q in queries), np.float64, len(queries)),
        height,
        weight,
        np.fromiter((_value(q.bust_cm) for q in queries), np.float64, len(queries)),
        np.fromiter((_value(q.age) for q in queries), np.float64, len(queries)),
        weight / (height / 100.0) ** 2,
        np.fromiter(
            (math.nan if q.body_type is None else body_code.get(q.body_type, math.nan) for q in queries),
            np.float64,
            len(queries),
        ),
    ]
    means: list[Floats] = []
    for entity in _ENTITIES:
        stats: list[FeedbackStats] = [getattr(q, entity) for q in queries]
        counts = np.array([(s.n, s.small, s.large, s.offset_sum_cm) for s in stats], np.float64).reshape(
            -1, 4
        )
        n, small, large, total = counts.T
        w = priors.weight[entity]
        small_rate = (small + w * priors.small_rate) / (n + w)
        large_rate = (large + w * priors.large_rate) / (n + w)
        offset_mean = (total + w * priors.offset_mean_cm) / (n + w)
        means.append(offset_mean)
        columns += [
            np.log1p(n),
            small_rate,
            large_rate,
            offset_mean,
            offset - offset_mean,
            large_rate - small_rate,
        ]
    columns.append(offset - means[0] - means[1] + priors.offset_mean_cm)
    return np.column_stack(columns)


# --- trees as arrays ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Forest:
    """Every tree of a boosted model in flat arrays (node ids are global), for vectorised descent.

    ``feature`` is -1 at leaves; ``value`` is the leaf's raw score; ``klass`` the class a tree
    adds to. Children of leaves point at themselves, so a fixed number of steps reaches every leaf.
    """

    feature: Ints
    threshold: Floats
    missing_left: np.ndarray[Any, np.dtype[np.bool_]]
    left: Ints
    right: Ints
    value: Floats
    roots: Ints
    klass: Ints
    depth: int
    baseline: Floats  # raw score before any tree, per class

    def raw(self, x: Floats) -> Floats:
        if x.shape[0] > _CHUNK:  # the (rows x trees) node matrix stays in cache
            return np.vstack([self.raw(x[i : i + _CHUNK]) for i in range(0, x.shape[0], _CHUNK)])
        node = np.broadcast_to(self.roots, (x.shape[0], len(self.roots))).copy()
        rows = np.arange(x.shape[0])[:, None]
        for _ in range(self.depth):
            feat = self.feature[node]
            value = x[rows, np.maximum(feat, 0)]
            go_left = np.where(np.isnan(value), self.missing_left[node], value <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        scores = self.value[node]
        out = np.tile(self.baseline, (x.shape[0], 1))
        for k in range(len(self.baseline)):
            out[:, k] += scores[:, self.klass == k].sum(axis=1)
        return out

    def arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        return {
            "feature": self.feature,
            "threshold": self.threshold,
            "missing_left": self.missing_left,
            "left": self.left,
            "right": self.right,
            "value": self.value,
            "roots": self.roots,
            "klass": self.klass,
            "depth": np.asarray([self.depth], np.int64),
            "baseline": self.baseline,
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> Forest:
        return cls(
            feature=np.asarray(arrays["feature"], np.int64),
            threshold=np.asarray(arrays["threshold"], np.float64),
            missing_left=np.asarray(arrays["missing_left"], np.bool_),
            left=np.asarray(arrays["left"], np.int64),
            right=np.asarray(arrays["right"], np.int64),
            value=np.asarray(arrays["value"], np.float64),
            roots=np.asarray(arrays["roots"], np.int64),
            klass=np.asarray(arrays["klass"], np.int64),
            depth=int(np.asarray(arrays["depth"])[0]),
            baseline=np.asarray(arrays["baseline"], np.float64).reshape(-1),
        )

    @classmethod
    def from_sklearn(cls, estimators: Sequence[Any]) -> Forest:
        """Copy fitted binary ``HistGradientBoostingClassifier``s (numeric features only): output
        ``k`` of the forest is estimator ``k``'s raw score (log-odds)."""
        parts: dict[str, list[np.ndarray[Any, Any]]] = {
            k: [] for k in ("feature", "threshold", "missing_left", "left", "right", "value")
        }
        roots: list[int] = []
        klass: list[int] = []
        baseline: list[float] = []
        offset = 0
        depth = 0
        for k, estimator in enumerate(estimators):
            baseline.append(float(np.asarray(estimator._baseline_prediction).reshape(-1)[0]))
            for iteration in estimator._predictors:
                (predictor,) = iteration
                nodes = predictor.nodes
                if np.any(nodes["is_categorical"]):
                    raise ValueError("categorical splits are not supported")
                leaf = nodes["is_leaf"].astype(bool)
                own = np.arange(len(nodes), dtype=np.int64) + offset
                parts["feature"].append(np.where(leaf, -1, nodes["feature_idx"]).astype(np.int64))
                parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
                parts["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
                parts["left"].append(np.where(leaf, own, nodes["left"].astype(np.int64) + offset))
                parts["right"].append(np.where(leaf, own, nodes["right"].astype(np.int64) + offset))
                parts["value"].append(np.where(leaf, nodes["value"], 0.0).astype(np.float64))
                roots.append(offset)
                klass.append(k)
                depth = max(depth, int(nodes["depth"].max()))
                offset += len(nodes)
        return cls(
            **{k: np.concatenate(v) for k, v in parts.items()},
            roots=np.asarray(roots, np.int64),
            klass=np.asarray(klass, np.int64),
            depth=depth,
            baseline=np.asarray(baseline, np.float64),
        )


def ordinal_pair(raw: Floats) -> Floats:
    """(P(small), P(fit), P(large)) from the log-odds of "small" and of "large" (one-vs-rest)."""
    small = 1.0 / (1.0 + np.exp(-raw[:, 0]))
    large = 1.0 / (1.0 + np.exp(-raw[:, 1]))
    fit = np.maximum(1.0 - small - large, _MIN_FIT)
    proba = np.column_stack([small, fit, large])
    out: Floats = proba / proba.sum(axis=1, keepdims=True)
    return out


@dataclass
class FitModel:
    """A trained fit model: features from ``FitQuery`` alone, probabilities in ``FIT_LABELS`` order."""

    version: str
    manifest: dict[str, Any]
    forest: Forest
    priors: Priors

    def predict_proba(self, queries: Sequence[FitQuery]) -> Floats:
        if not queries:
            return np.zeros((0, len(FIT_LABELS)))
        return ordinal_pair(self.forest.raw(features(queries, self.priors)))

    def save(self, model_dir: Path) -> Path:
        """Write ``<model_dir>/<version>/`` (model file first, manifest last, so a folder with a
        manifest is complete) and return that folder."""
        folder = model_dir / self.version
        self.manifest = write_artifact(
            folder,
            self.forest.arrays(),
            {
                **self.manifest,
                "version": self.version,
                "feature_version": FEATURE_VERSION,
                "features": list(FEATURE_NAMES),
                "labels": list(FIT_LABELS),
                "priors": self.priors.as_dict(),
            },
        )
        return folder


def new_version(kind: str, fingerprint: str, now: datetime | None = None) -> str:
    """``fit-<kind>-<UTC yyyymmddHHMMSS>-<8 hex>``: sorts by time, names its inputs."""
    return version_name(f"fit-{kind}", fingerprint, now)


def versions(model_dir: Path) -> list[str]:
    """Versions with a manifest under ``model_dir``, oldest first."""
    return list_versions(model_dir, _VERSION)


def load_model(model_dir: Path, version: str | None = None) -> FitModel | None:
    """The given version, or the newest one; None when ``model_dir`` holds no model.

    Raises ``ModelArtifactError`` when the asked-for version is missing, or the files are
    corrupt, or the model file's sha256 differs from the manifest's.
    """
    folder = version_folder(model_dir, version, _VERSION, "fit model")
    if folder is None:
        return None
    arrays, manifest = read_artifact(folder, FEATURE_VERSION)
    try:
        forest = Forest.from_arrays(arrays)
        priors = Priors.from_dict(manifest["priors"])
    except (KeyError, ValueError, TypeError, OSError) as error:
        raise ModelArtifactError(f"corrupt fit model {folder.name}: {error}") from error
    return FitModel(version=folder.name, manifest=manifest, forest=forest, priors=priors)
