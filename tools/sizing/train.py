"""Training the fit model on RentTheRunway, and the metrics it is judged by.

Trains on the train split of ``tools.sizing.rtr`` with the validation split for early stopping,
then copies the trees into a ``FitModel`` and writes a new version folder. The whole run (read,
convert, count, fit) takes well under a minute and a half on two cores, so ``make run`` can
afford ``--if-missing``.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tools.sizing import rtr
from tools.sizing.model import (
    FEATURE_NAMES,
    FEATURE_VERSION,
    ROOMINESS_FEATURES,
    FitModel,
    Forest,
    ModelArtifactError,
    Priors,
    features,
    load_model,
    new_version,
    read_manifest,
    versions,
)
from tools.sizing.schemas import FIT_LABELS

log = logging.getLogger(__name__)

Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]

#: Bump when training changes what a model means (not only its quality): --if-missing retrains.
TRAINER_VERSION = "hgb-ordinal-monotone-v2"
ECE_BINS = 15


@dataclass(frozen=True)
class Params:
    """Chosen on validation (macro AUC, see the issue's notes): a flat optimum, 0.772-0.773 across
    learning rates 0.05-0.1, 31-63 leaves and prior weights 1-10."""

    learning_rate: float = 0.1
    max_iter: int = 500
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 50
    l2_regularization: float = 1.0
    n_iter_no_change: int = 20
    prior_weight: float = 3.0
    random_state: int = 0


# --- metrics ----------------------------------------------------------------------------------


def _ece(confidence: Floats, hit: Floats, bins: int = ECE_BINS) -> float:
    """Expected calibration error with equal-width bins over [0, 1]."""
    index = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    conf = np.bincount(index, weights=confidence, minlength=bins)
    acc = np.bincount(index, weights=hit, minlength=bins)
    return float(np.abs(conf - acc).sum() / max(len(confidence), 1))


def scores(proba: Floats, labels: Ints) -> dict[str, Any]:
    """Per-class one-vs-rest AUC and ECE, their macro averages, accuracy and top-label ECE."""
    from sklearn.metrics import roc_auc_score

    auc = {}
    ece = {}
    for k, name in enumerate(FIT_LABELS):
        truth = (labels == k).astype(np.float64)
        auc[name] = (
            round(float(roc_auc_score(truth, proba[:, k])), 4) if 0 < truth.sum() < len(truth) else None
        )
        ece[name] = round(_ece(proba[:, k], truth), 4)
    known = [v for v in auc.values() if v is not None]
    top = proba.argmax(axis=1)
    return {
        "n": len(labels),
        "auc": auc,
        "macro_auc": round(float(np.mean(known)), 4) if known else None,
        "accuracy": round(float(np.mean(top == labels)), 4),
        "ece": ece,
        "macro_ece": round(float(np.mean(list(ece.values()))), 4),
        "top_label_ece": round(_ece(proba.max(axis=1), (top == labels).astype(np.float64)), 4),
    }


# --- training ---------------------------------------------------------------------------------


def fit_priors(prepared: rtr.Prepared, weight: float) -> Priors:
    train = prepared.split.train
    labels = prepared.data.label[train]
    return Priors(
        small_rate=float(np.mean(labels == 0)),
        large_rate=float(np.mean(labels == 2)),
        offset_mean_cm=float(prepared.offset[train].mean()),
        weight={"person": weight, "product": weight, "product_size": weight},
    )


def train_model(
    prepared: rtr.Prepared, params: Params | None = None, *, limit: int | None = None
) -> FitModel:
    """Fit on train, stop early on validation, return an unsaved ``FitModel`` with its manifest.

    Two one-vs-rest boosted models (small, large) rather than one softmax model, because only
    binary boosting can be made monotone in the roominess features (see ``ROOMINESS_FEATURES``);
    P(fit) is what is left. Unconstrained softmax boosting scored 0.773 validation macro AUC but
    advised the wrong way (a roomier size raised P(small)); this scores about 0.764."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    params = params or Params()
    started = time.perf_counter()
    train, validation = prepared.split.train, prepared.split.validation
    priors = fit_priors(prepared, params.prior_weight)
    x_train = features(prepared.queries(train), priors)
    x_val = features(prepared.queries(validation), priors)
    y_train, y_val = prepared.labels(train), prepared.labels(validation)
    estimators = []
    for label, direction in ((FIT_LABELS.index("small"), -1), (FIT_LABELS.index("large"), 1)):
        constraints = [direction if name in ROOMINESS_FEATURES else 0 for name in FEATURE_NAMES]
        estimator = HistGradientBoostingClassifier(
            learning_rate=params.learning_rate,
            max_iter=params.max_iter,
            max_leaf_nodes=params.max_leaf_nodes,
            min_samples_leaf=params.min_samples_leaf,
            l2_regularization=params.l2_regularization,
            early_stopping=True,
            n_iter_no_change=params.n_iter_no_change,
            categorical_features=None,
            monotonic_cst=constraints,
            random_state=params.random_state,
        )
        estimator.fit(x_train, (y_train == label).astype(np.int64), X_val=x_val, y_val=(y_val == label))
        estimators.append(estimator)
    forest = Forest.from_sklearn(estimators)
    iterations = [int(e.n_iter_) for e in estimators]
    seconds = time.perf_counter() - started
    created = datetime.now(UTC)
    fingerprint = f"{prepared.data.sha256}:{prepared.seed}:{limit}:{FEATURE_VERSION}:{TRAINER_VERSION}"
    model = FitModel(
        version=new_version("hgb", f"{fingerprint}:{created.isoformat()}", created),
        manifest={},
        forest=forest,
        priors=priors,
    )
    val_scores = scores(model.predict_proba(prepared.queries(validation)), y_val)
    model.manifest = {
        "created_at": created.isoformat(),
        "trainer_version": TRAINER_VERSION,
        "feature_version": FEATURE_VERSION,
        "training_data": {
            "name": "renttherunway_fit",
            "sha256": prepared.data.sha256,
            "records": len(prepared.data),
            "limit": limit,
        },
        "seed": prepared.seed,
        "split": {
            "fractions": list(rtr.SPLIT_FRACTIONS),
            "sizes": prepared.split.sizes(),
            "oof_folds": rtr.N_FOLDS,
        },
        "rtr_conversion": prepared.coefficients.as_dict(),
        "params": asdict(params),
        "iterations": {"small": iterations[0], "large": iterations[1]},
        "trees": len(forest.roots),
        "train_seconds": round(seconds, 1),
        "validation": val_scores,
    }
    log.info(
        "fit model trained: %s iterations in %.1f s, validation macro AUC %s, accuracy %s",
        iterations,
        seconds,
        val_scores["macro_auc"],
        val_scores["accuracy"],
    )
    return model


def current(model_dir: Path) -> FitModel | None:
    """The newest model in ``model_dir`` made by this code's features and trainer, if any."""
    for version in reversed(versions(model_dir)):
        try:
            manifest = read_manifest(model_dir / version)
            if (
                manifest.get("feature_version") == FEATURE_VERSION
                and manifest.get("trainer_version") == TRAINER_VERSION
            ):
                return load_model(model_dir, version)
        except ModelArtifactError as error:
            log.warning("skipping fit model %s: %s", version, error)
    return None


def matching(model_dir: Path, prepared: rtr.Prepared, limit: int | None = None) -> FitModel | None:
    """The newest current model trained on this very data, seed and limit (so the same split)."""
    for version in reversed(versions(model_dir)):
        try:
            manifest = read_manifest(model_dir / version)
        except ModelArtifactError:
            continue
        data = manifest.get("training_data", {})
        if (
            manifest.get("feature_version") == FEATURE_VERSION
            and manifest.get("trainer_version") == TRAINER_VERSION
            and manifest.get("seed") == prepared.seed
            and data.get("sha256") == prepared.data.sha256
            and data.get("limit") == limit
            and data.get("records") == len(prepared.data)
        ):
            try:
                return load_model(model_dir, version)
            except ModelArtifactError as error:
                log.warning("skipping fit model %s: %s", version, error)
    return None


def train(
    model_dir: Path,
    data_path: Path,
    *,
    seed: int = rtr.SEED,
    limit: int | None = None,
    params: Params | None = None,
) -> FitModel:
    """Read, convert, fit and save a new version under ``model_dir``."""
    started = time.perf_counter()
    data = rtr.load(data_path, limit)
    prepared = rtr.prepare(data, seed)
    log.info("RTR: %d records read and converted in %.1f s", len(data), time.perf_counter() - started)
    model = train_model(prepared, params, limit=limit)
    model.manifest["cpu_count"] = os.cpu_count()
    model.manifest["total_seconds"] = round(time.perf_counter() - started, 1)
    folder = model.save(model_dir)
    log.info("fit model %s written to %s", model.version, folder)
    return model
