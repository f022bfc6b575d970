"""Two RTR-only baselines for the fit model, on the same split (``tools.sizing.rtr``).

* ``OneLatent``: the single latent "true size" model (1-LV) of Misra, Wan, McAuley (RecSys 2018,
  after Sembium et al. 2017): a true size ``u`` per customer and ``v`` per child product
  (item, size); the fit score ``s = v - u`` goes through an ordinal logistic link with learned
  thresholds, ``P(small) = σ(θ1 - s)``, ``P(small or fit) = σ(θ2 - s)``. The child product's true
  size is its standardised size code times a learned scale plus an L2-regularised deviation, so an
  unseen (item, size) falls back to its code rather than to zero; an unseen customer has ``u = 0``.
  Trained with scipy's L-BFGS on train; the L2 strength is chosen on validation (macro AUC).
* ``MeasurementLogistic``: multinomial logistic regression on the body measurements, the size
  code (and its square), the category and the body type; ``C`` chosen on validation.

Both may use RTR user and item ids and raw size codes: they exist to put the fit model's figures
in context, not to run in production.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from tools.sizing.rtr import Prepared

log = logging.getLogger(__name__)

Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]

#: 10.0 scored 0.676 on validation in a first sweep (0.3-3: 0.70-0.71), so it is left out.
ONE_LV_L2_GRID = (0.3, 1.0, 3.0)
#: 0.01 scored 0.624 on validation in a first sweep (0.1 and 1: 0.626).
LOGISTIC_C_GRID = (0.1, 1.0)
ONE_LV_MAX_ITER = 300
_EPS = 1e-12


def _macro_auc(proba: Floats, labels: Ints) -> float:
    from sklearn.metrics import roc_auc_score

    return float(np.mean([roc_auc_score(labels == k, proba[:, k]) for k in range(proba.shape[1])]))


def _ordinal(s: Floats, theta1: float, theta2: float) -> Floats:
    a = expit(theta1 - s)
    b = expit(theta2 - s)
    return np.column_stack([a, np.maximum(b - a, _EPS), 1.0 - b])


@dataclass
class OneLatent:
    """The fitted 1-LV model; ``predict_proba`` takes record indices of the same ``Prepared``."""

    prepared: Prepared
    user: Floats
    deviation: Floats
    scale: float
    theta1: float
    theta2: float
    size_mean: float
    size_std: float
    l2: float

    def score(self, rows: Ints) -> Floats:
        d = self.prepared.data
        user = d.user[rows]
        child = d.child[rows]
        u = np.where(user < len(self.user), self.user[np.minimum(user, len(self.user) - 1)], 0.0)
        e = np.where(
            child < len(self.deviation), self.deviation[np.minimum(child, len(self.deviation) - 1)], 0.0
        )
        z = (d.size[rows] - self.size_mean) / self.size_std
        out: Floats = e + self.scale * z - u
        return out

    def predict_proba(self, rows: Ints) -> Floats:
        proba = _ordinal(self.score(rows), self.theta1, self.theta2)
        out: Floats = proba / proba.sum(axis=1, keepdims=True)
        return out


def _fit_one_lv(prepared: Prepared, l2: float) -> OneLatent:
    d = prepared.data
    train = prepared.split.train
    users, children = d.user[train], d.child[train]
    n_users, n_children = int(d.user.max()) + 1, int(d.child.max()) + 1
    size_mean = float(d.size[train].mean())
    size_std = float(d.size[train].std()) or 1.0
    z = (d.size[train] - size_mean) / size_std
    y = d.label[train]
    small, fit, large = y == 0, y == 1, y == 2

    def unpack(w: Floats) -> tuple[Floats, Floats, float, float, float]:
        return w[:n_users], w[n_users : n_users + n_children], w[-3], w[-2], w[-1]

    def loss(w: Floats) -> tuple[float, Floats]:
        u, e, scale, theta1, gap = unpack(w)
        theta2 = theta1 + np.exp(gap)
        s = e[children] + scale * z - u[users]
        a = expit(theta1 - s)
        b = expit(theta2 - s)
        width = np.maximum(b - a, _EPS)
        nll = -(
            np.log(np.maximum(a[small], _EPS)).sum()
            + np.log(width[fit]).sum()
            + np.log(np.maximum(1.0 - b[large], _EPS)).sum()
        )
        d_theta1 = np.zeros_like(s)
        d_theta2 = np.zeros_like(s)
        d_theta1[small] = -(1.0 - a[small])
        d_theta2[large] = b[large]
        d_theta1[fit] = a[fit] * (1.0 - a[fit]) / width[fit]
        d_theta2[fit] = -b[fit] * (1.0 - b[fit]) / width[fit]
        d_s = -(d_theta1 + d_theta2)
        grad = np.zeros_like(w)
        grad[:n_users] = -np.bincount(users, weights=d_s, minlength=n_users) + l2 * u
        grad[n_users : n_users + n_children] = (
            np.bincount(children, weights=d_s, minlength=n_children) + l2 * e
        )
        grad[-3] = float(d_s @ z)
        grad[-2] = float(d_theta1.sum() + d_theta2.sum())
        grad[-1] = float(d_theta2.sum() * np.exp(gap))
        value = float(nll + 0.5 * l2 * (u @ u + e @ e))
        return value, grad

    start = np.zeros(n_users + n_children + 3)
    start[-3], start[-2], start[-1] = 1.0, -1.5, np.log(3.0)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": ONE_LV_MAX_ITER})
    u, e, scale, theta1, gap = unpack(result.x)
    return OneLatent(
        prepared=prepared,
        user=u,
        deviation=e,
        scale=float(scale),
        theta1=float(theta1),
        theta2=float(theta1 + np.exp(gap)),
        size_mean=size_mean,
        size_std=size_std,
        l2=l2,
    )


def fit_one_lv(
    prepared: Prepared, grid: tuple[float, ...] = ONE_LV_L2_GRID
) -> tuple[OneLatent, dict[str, Any]]:
    """The 1-LV model with the L2 strength that gives the best validation macro AUC."""
    validation = prepared.split.validation
    labels = prepared.data.label[validation]
    best: tuple[float, OneLatent] | None = None
    tried = {}
    for l2 in grid:
        model = _fit_one_lv(prepared, l2)
        auc = _macro_auc(model.predict_proba(validation), labels)
        tried[str(l2)] = round(auc, 4)
        log.info("1-LV l2=%g: validation macro AUC %.4f", l2, auc)
        if best is None or auc > best[0]:
            best = (auc, model)
    assert best is not None
    return best[1], {"l2": best[1].l2, "validation_macro_auc_by_l2": tried}


# --- multinomial logistic regression on measurements -------------------------------------------


@dataclass
class MeasurementLogistic:
    prepared: Prepared
    estimator: Any
    medians: Floats
    mean: Floats
    std: Floats
    categories: tuple[str, ...]
    body_types: tuple[str, ...]

    def design(self, rows: Ints) -> Floats:
        d = self.prepared.data
        height, weight = d.height_cm[rows], d.weight_kg[rows]
        size = d.size[rows].astype(np.float64)
        raw = np.column_stack(
            [d.bust_cm[rows], d.cup[rows], height, weight, weight / (height / 100) ** 2, d.age[rows]]
        )
        missing = np.isnan(raw)
        filled = np.where(missing, self.medians, raw)
        numeric = np.column_stack([filled, size, size**2])
        numeric = (numeric - self.mean) / self.std
        category = np.array(
            [[d.category[i] == c for c in self.categories] for i in rows.tolist()], np.float64
        )
        body = np.array([[d.body_type[i] == b for b in self.body_types] for i in rows.tolist()], np.float64)
        return np.hstack([numeric, missing.astype(np.float64), category.reshape(len(rows), -1), body])

    def predict_proba(self, rows: Ints) -> Floats:
        out: Floats = self.estimator.predict_proba(self.design(rows))
        return out


def fit_logistic(
    prepared: Prepared, grid: tuple[float, ...] = LOGISTIC_C_GRID
) -> tuple[MeasurementLogistic, dict[str, Any]]:
    """Multinomial logistic regression with the ``C`` that gives the best validation macro AUC."""
    from sklearn.linear_model import LogisticRegression

    d = prepared.data
    train, validation = prepared.split.train, prepared.split.validation
    height, weight = d.height_cm[train], d.weight_kg[train]
    raw = np.column_stack(
        [d.bust_cm[train], d.cup[train], height, weight, weight / (height / 100) ** 2, d.age[train]]
    )
    medians = np.nanmedian(raw, axis=0)
    filled = np.where(np.isnan(raw), medians, raw)
    size = d.size[train].astype(np.float64)
    numeric = np.column_stack([filled, size, size**2])
    counts: dict[str, int] = {}
    for i in train.tolist():
        counts[d.category[i]] = counts.get(d.category[i], 0) + 1
    categories = tuple(sorted(c for c, n in counts.items() if n >= 20))
    body_types = tuple(sorted({b for b in d.body_type if b is not None}))
    template = MeasurementLogistic(
        prepared=prepared,
        estimator=None,
        medians=medians,
        mean=numeric.mean(axis=0),
        std=numeric.std(axis=0) + 1e-9,
        categories=categories,
        body_types=body_types,
    )
    x_train, x_val = template.design(train), template.design(validation)
    best: tuple[float, MeasurementLogistic] | None = None
    tried = {}
    for c in grid:
        estimator = LogisticRegression(C=c, max_iter=2000).fit(x_train, d.label[train])
        model = MeasurementLogistic(**{**template.__dict__, "estimator": estimator})
        auc = _macro_auc(estimator.predict_proba(x_val), d.label[validation])
        tried[str(c)] = round(auc, 4)
        log.info("logistic C=%g: validation macro AUC %.4f", c, auc)
        if best is None or auc > best[0]:
            best = (auc, model)
    assert best is not None
    return best[1], {"C": best[1].estimator.C, "validation_macro_auc_by_C": tried}
