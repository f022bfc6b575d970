"""``python -m evals recommend``: the ranker on RentTheRunway and outfit compatibility on Polyvore.

* **Ranker** (``evals.recommend_ranker``): a time-based split of RentTheRunway rentals; each test
  rental's item is ranked among 99 items rented the same month. recall@10 / NDCG@10 for the
  multi-task ranker, its rent head alone, a single-task network and popularity baselines, for
  everyone and for cold-start people separately; AUC of the like head and its calibration
  (reliability table, ECE) on the same held-out rentals.
* **Compatibility** (``evals.polyvore``): fill-in-the-blank accuracy and outfit-compatibility AUC
  on the Maryland Polyvore test questions whose items have titles, for the text-only model and
  two baselines; the image-based anchors from the literature are listed beside them.

Test splits are read only here. The last line is one JSON object with every figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.polyvore import run as run_polyvore
from evals.recommend_ranker import evaluate_ranker


def run(
    *, limit: int | None = None, single_task: bool = True, data_dir: Path | None = None
) -> dict[str, Any]:
    return {
        "suite": "recommend",
        "ranker": evaluate_ranker(data_dir, limit=limit, single_task=single_task),
        "compatibility": run_polyvore(data_dir=data_dir),
    }


SEGMENTS = ("all", "cold_start", "no_history_at_event")


def _row(name: str, report: dict[str, Any]) -> str:
    cells = []
    for group in SEGMENTS:
        figures = report.get(group) or {}
        cells.append(
            f"{figures.get('recall@10', float('nan')):.4f} / {figures.get('ndcg@10', float('nan')):.4f}"
        )
    return f"{name:34s} " + "  ".join(f"{c:17s}" for c in cells)


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(result: dict[str, Any]) -> str:
    ranker = result["ranker"]
    lines = [
        f"ranker {ranker['ranker']['version']} ({ranker['ranker']['source']}); "
        f"{ranker['test_rentals']} test rentals, {ranker['n_negatives']} negatives each",
        f"{'recall@10 / NDCG@10':34s} " + "  ".join(f"{s:17s}" for s in SEGMENTS),
    ]
    lines.extend(_row(name, report) for name, report in ranker["ranking"].items())
    lines.append("like AUC (all): " + ", ".join(f"{k} {v['all']:.4f}" for k, v in ranker["like_auc"].items()))
    calibration = ranker.get("like_calibration")
    if calibration:
        lines.append(
            f"like head calibration ({calibration['n']} rated test rentals): ECE {_f(calibration['ece'])}, "
            f"mean P(like) {_f(calibration['mean_predicted'])} "
            f"vs like rate {_f(calibration['observed_like_rate'])}"
        )
        lines.append("  bin          mean P(like)  like rate  count")
        lines.extend(
            f"  {row['low']:.1f}–{row['high']:.1f}      {_f(row['mean_predicted']):>12s}  "
            f"{_f(row['observed_like_rate']):>9s}  {row['count']:5d}"
            for row in calibration["reliability"]
        )
    compat = result["compatibility"]
    for protocol in ("strict", "titled_items"):
        block = compat.get(protocol)
        if not block:
            continue
        model = block.get("model") or {}
        cosine = block["mean_cosine"]
        lines.append(
            f"Polyvore {protocol}: FITB ({block['fitb_coverage']}) model {_f(model.get('fitb_accuracy'))} "
            f"cosine {_f(cosine.get('fitb_accuracy'))} random 0.250; compatibility AUC "
            f"({block['compat_coverage']}) model {_f(model.get('compat_auc'))} "
            f"cosine {_f(cosine.get('compat_auc'))}"
        )
    return "\n".join(lines)
