"""``python -m evals sizing``: how well the fit model tells small / fit / large, on RentTheRunway.

Reads the RTR fit feedback from ``research_data_dir`` and rebuilds the fixed seeded 80/10/10
split of ``tools.sizing.rtr``. The fit model is loaded from ``settings.sizing.model_dir`` when a
version there was trained on this same file, seed and record limit (so on this same split);
otherwise one is trained in memory (not saved). The two baselines of
``tools.sizing.baselines`` (1-LV true-size model; multinomial logistic regression on
measurements) are trained on the same train split with their regularisation chosen on validation.

Reported for each model, on validation and on test: one-vs-rest AUC per class and their macro
average, accuracy, per-class ECE (15 equal-width bins) and top-label ECE. This suite is the only
reader of the test split; the figure to quote is the test macro AUC (target ≥ 0.75).

Published context (other protocols and splits, so not comparable number for number): Misra, Wan,
McAuley, RecSys 2018 ("Decomposing fit semantics for product size recommendation in metric
spaces", K-LF-ML), who released this data; Sheikh et al., RecSys 2019 (SFNet). Both report
average AUC over the three classes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from core.training import TrainingPaths
from evals.measure import calibration_bins
from tools.sizing import rtr
from tools.sizing.baselines import fit_logistic, fit_one_lv
from tools.sizing.train import matching, scores, train_model

log = logging.getLogger(__name__)

TARGET_MACRO_AUC = 0.75


def run(
    *,
    data_path: Path | None = None,
    model_dir: Path | None = None,
    limit: int | None = None,
    seed: int = rtr.SEED,
    baselines: bool = True,
) -> dict[str, Any]:
    paths = TrainingPaths()
    data_path = data_path or rtr.default_path(paths.research_data_dir)
    model_dir = model_dir or paths.sizing.model_dir
    started = time.perf_counter()
    prepared = rtr.prepare(rtr.load(data_path, limit), seed)
    validation, test = prepared.split.validation, prepared.split.test
    model = matching(model_dir, prepared, limit)
    source = "loaded"
    if model is None:
        model = train_model(prepared, limit=limit)
        source = "trained"
    test_proba = model.predict_proba(prepared.queries(test))
    test_labels = prepared.labels(test)
    results: dict[str, Any] = {
        "fit_model": {
            "version": model.version,
            "source": source,
            "validation": scores(
                model.predict_proba(prepared.queries(validation)), prepared.labels(validation)
            ),
            "test": scores(test_proba, test_labels),
        }
    }
    # The reliability diagram of the fit model's top label on the test split (the report plots it).
    calibration = calibration_bins(
        [float(p) for p in test_proba.max(axis=1)],
        [bool(hit) for hit in test_proba.argmax(axis=1) == test_labels],
    )
    if baselines:
        one_lv, chosen = fit_one_lv(prepared)
        results["one_lv"] = {
            "chosen": chosen,
            "validation": scores(one_lv.predict_proba(validation), prepared.labels(validation)),
            "test": scores(one_lv.predict_proba(test), prepared.labels(test)),
        }
        logistic, chosen = fit_logistic(prepared)
        results["logistic"] = {
            "chosen": chosen,
            "validation": scores(logistic.predict_proba(validation), prepared.labels(validation)),
            "test": scores(logistic.predict_proba(test), prepared.labels(test)),
        }
    test_auc = results["fit_model"]["test"]["macro_auc"]
    return {
        "suite": "sizing",
        "data_sha256": prepared.data.sha256,
        "records": len(prepared.data),
        "limit": limit,
        "seed": seed,
        "split": prepared.split.sizes(),
        "results": results,
        "calibration": calibration,
        "target_macro_auc": TARGET_MACRO_AUC,
        "pass": test_auc is not None and test_auc >= TARGET_MACRO_AUC,
        "seconds": round(time.perf_counter() - started, 1),
        "references": [
            "Misra, Wan, McAuley. Decomposing fit semantics for product size recommendation "
            "in metric spaces. RecSys 2018 (K-LF-ML; 1-LV baseline)",
            "Sheikh et al. A deep learning system for predicting size and fit in fashion "
            "e-commerce. RecSys 2019 (SFNet)",
        ],
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"sizing: RentTheRunway, {result['records']} records, "
        f"split {result['split']} (seed {result['seed']})",
        f"{'model':10s} {'split':10s} {'AUC small':>9s} {'fit':>6s} {'large':>6s} {'macro':>6s} "
        f"{'acc':>6s} {'ECE s/f/l':>17s} {'top ECE':>7s}",
    ]
    for name, r in result["results"].items():
        for split in ("validation", "test"):
            s = r[split]
            auc, ece = s["auc"], s["ece"]
            eces = "/".join(f"{ece[k]:.3f}" for k in ("small", "fit", "large"))
            lines.append(
                f"{name:10s} {split:10s} {auc['small']:9.4f} {auc['fit']:6.4f} {auc['large']:6.4f} "
                f"{s['macro_auc']:6.4f} {s['accuracy']:6.4f} {eces:>17s} {s['top_label_ece']:7.4f}"
            )
    verdict = "PASS" if result["pass"] else "FAIL"
    test_auc = result["results"]["fit_model"]["test"]["macro_auc"]
    lines.append(
        f"fit model test macro AUC {test_auc:.4f} (target ≥ {result['target_macro_auc']}): {verdict}"
    )
    return "\n".join(lines)
