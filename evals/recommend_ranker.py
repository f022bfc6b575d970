"""How well the outfit ranker puts the rented item on top, on RentTheRunway's *test* period.

The time split of ``tools.recommend.interactions`` is rebuilt; this is the only reader of its
test period (2017-10-01 on). Each test rental is ranked among ``N_EVAL_NEGATIVES`` (99) other
items rented by anyone in the same month, so chance is recall@10 = 0.10. Metrics:

* recall@10 and NDCG@10 of the rented item (ties broken uniformly at random, in expectation);
* AUC of the like head (rating 10 vs lower) over the rented items that have a rating, and on
  the same rentals its calibration: a 10-bin reliability table and the expected calibration
  error (ECE), since the combined score uses the head's probability, not only its order.

Each is reported for all test rentals and separately for *cold-start* ones (the person has no
rental before the test period) and *warm* ones, and for *no_history_at_event* (no rental
before the day at all, so the model sees only profile, occasion and the item's counts: the
cold-start model proper; a cold-start person's second test rental already has history), and
for *loved_rentals* (rated 10: what the combined score is for).

Baselines: popularity (train-period rental counts), causal popularity (the item's count before
the day, which the model also sees), occasion-conditioned popularity (train counts for the
request's occasion), and the single-task network (rent head only, trained the same way).
Like-AUC baselines: the item's and the person's smoothed like-rate.

The ranker is loaded from ``model_dir`` when its version was trained on this same file and
record limit; otherwise one is trained in memory (not saved).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from core.training import TrainingPaths
from tools.recommend import interactions as ia
from tools.recommend.ranker import (
    ALPHAS,
    OCCASIONS,
    Candidate,
    Floats,
    HistoryEvent,
    ItemHistory,
    ModelArtifactError,
    Profile,
    Ranker,
    TrainConfig,
    auc,
    build_ranker_inputs,
    default_model_dir,
    fit_ranker,
    load_ranker,
    prepare,
    rank_metrics,
)
from tools.recommend.schemas import ItemKind, Occasion, Season
from tools.sizing.rtr import default_path

N_TRAIN_NEGATIVES = 4
TEST_SEED = ia.SEED + 2


def _segments(sets: ia.CandidateSets) -> dict[str, np.ndarray[Any, np.dtype[np.bool_]]]:
    no_history = sets.columns.person_n[:: sets.width] == 0
    return {
        "all": np.ones(len(sets.events), bool),
        "cold_start": sets.cold,
        "warm": ~sets.cold,
        "no_history_at_event": no_history,
        "loved_rentals": sets.liked == 1,
    }


def ranking_report(scores: Floats, sets: ia.CandidateSets) -> dict[str, dict[str, float]]:
    """Recall@10 / NDCG@10 per segment of a flat score vector over ``sets``' rows."""
    matrix = np.asarray(scores, np.float64).reshape(sets.items.shape)
    return {name: rank_metrics(matrix[mask]) for name, mask in _segments(sets).items()}


def like_report(scores: Floats, sets: ia.CandidateSets) -> dict[str, float]:
    """Like-AUC per segment over the rented items with a rating (``scores`` one per event)."""
    rated = sets.liked >= 0
    return {
        name: auc(scores[mask & rated], (sets.liked[mask & rated] == 1).astype(np.float64))
        for name, mask in _segments(sets).items()
        if name != "loved_rentals"  # all positive: AUC undefined
    }


CALIBRATION_BINS = 10


def like_calibration(
    probabilities: Floats, liked: np.ndarray[Any, Any], bins: int = CALIBRATION_BINS
) -> dict[str, Any]:
    """Reliability table and expected calibration error (ECE) of the like head.

    AUC only says the head orders rentals well; the ranker multiplies P(like) into the score
    (``rent * (alpha + like)``), so its level matters too: a head that says 0.9 where 60% are
    loved over-weights the like term. Equal-width bins over [0, 1] (the first one closed, so a
    probability of exactly 0 counts); each row is the bin's mean predicted probability, its
    observed like rate and its count, empty bins with nulls. ECE is the count-weighted mean gap.
    """
    p = np.clip(np.asarray(probabilities, np.float64), 0.0, 1.0)
    y = np.asarray(liked, np.float64)
    index = np.clip(np.ceil(p * bins).astype(int) - 1, 0, bins - 1)
    rows: list[dict[str, Any]] = []
    gap = 0.0
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        mean_p = float(p[mask].mean()) if n else None
        rate = float(y[mask].mean()) if n else None
        if mean_p is not None and rate is not None:
            gap += n * abs(rate - mean_p)
        rows.append(
            {
                "low": round(b / bins, 2),
                "high": round((b + 1) / bins, 2),
                "mean_predicted": None if mean_p is None else round(mean_p, 4),
                "observed_like_rate": None if rate is None else round(rate, 4),
                "count": n,
            }
        )
    return {
        "n": len(p),
        "ece": round(gap / len(p), 4) if len(p) else None,
        "mean_predicted": round(float(p.mean()), 4) if len(p) else None,
        "observed_like_rate": round(float(y.mean()), 4) if len(p) else None,
        "reliability": rows,
    }


def scoring_latency_ms(ranker: Ranker, n_candidates: int = 300, repeats: int = 30) -> dict[str, float]:
    """Median wall time, for one request, of building the inputs from runtime objects and scoring
    them, and of ``Ranker.score`` alone."""
    rng = np.random.default_rng(0)
    kinds = list(ItemKind)
    occasions = list(Occasion)
    candidates = [
        Candidate(
            kind=kinds[int(rng.integers(len(kinds)))],
            history=ItemHistory(
                n=int(rng.integers(0, 300)),
                likes=int(rng.integers(0, 100)),
                occasion_counts={occasions[int(rng.integers(len(occasions)))]: int(rng.integers(0, 50))},
            ),
        )
        for _ in range(n_candidates)
    ]
    history = [
        HistoryEvent(kind=ItemKind.DRESS, occasion=Occasion.WEDDING, liked=True, when=date(2020, 1, 1))
        for _ in range(5)
    ]
    profile = Profile(body_type="hourglass", age=30, height_cm=165, weight_kg=60)
    both, alone = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        inputs = build_ranker_inputs(
            candidates, occasion=Occasion.PARTY, season=Season.SUMMER, profile=profile, history=history
        )
        middle = time.perf_counter()
        ranker.score(inputs)
        done = time.perf_counter()
        both.append(done - started)
        alone.append(done - middle)
    return {
        "n_candidates": n_candidates,
        "build_and_score_ms": float(np.median(both) * 1000),
        "score_only_ms": float(np.median(alone) * 1000),
    }


def evaluate_ranker(
    data_dir: Path | None = None,
    model_dir: Path | None = None,
    *,
    limit: int | None = None,
    single_task: bool = True,
) -> dict[str, Any]:
    data_dir = data_dir or TrainingPaths().research_data_dir
    model_dir = model_dir or default_model_dir()
    data_path = default_path(data_dir)
    started = time.perf_counter()
    data = ia.load_interactions(data_path, limit)
    split = ia.time_split(data)
    test = ia.candidate_sets(data, split.test, ia.N_EVAL_NEGATIVES, split.validation_end, seed=TEST_SEED)
    source = "loaded"
    try:
        ranker = load_ranker(model_dir)
    except ModelArtifactError as error:
        ranker, source = None, f"trained in memory: the saved one cannot be used ({error})"
    prepared = None
    data_of = (ranker.manifest.get("data") or {}) if ranker is not None else {}
    if ranker is None or data_of.get("data_sha256") != data.sha256 or data_of.get("limit") != limit:
        prepared = prepare(data_path, limit, N_TRAIN_NEGATIVES)
        ranker = fit_ranker(
            prepared.train, prepared.validation, N_TRAIN_NEGATIVES, manifest={"data": prepared.data_manifest}
        )
        source = source if source != "loaded" else "trained in memory"
    rent, like = ranker.heads_columns(test.columns)
    width = test.width
    positives = np.arange(len(test.events)) * width
    cols = test.columns
    train_rows = split.train
    train_count = np.bincount(data.item[train_rows], minlength=len(data.item_kind)).astype(np.float64)
    occ_count = np.zeros((len(data.item_kind), len(OCCASIONS) + 1))
    np.add.at(
        occ_count,
        (
            data.item[train_rows],
            np.where(data.occasion[train_rows] >= 0, data.occasion[train_rows], len(OCCASIONS)),
        ),
        1.0,
    )
    flat_items = test.items.reshape(-1)
    occ = np.where(cols.occasion >= 0, cols.occasion, len(OCCASIONS))
    occ_pop = np.where(cols.occasion >= 0, occ_count[flat_items, occ], 0.0) + 1e-3 * train_count[flat_items]
    w = ranker.priors.weight
    prior = ranker.priors.like_rate
    ranking: dict[str, Any] = {
        "ranker": ranking_report(ranker.combine(rent, like), test),
        "ranker_rent_head_only": ranking_report(rent, test),
        "popularity_train_counts": ranking_report(train_count[flat_items], test),
        "popularity_causal_counts": ranking_report(cols.item_n, test),
        "occasion_popularity_train_counts": ranking_report(occ_pop, test),
    }
    liking: dict[str, Any] = {
        "ranker_like_head": like_report(like[positives], test),
        "item_like_rate": like_report(
            ((cols.item_likes + w * prior) / (cols.item_rated + w))[positives], test
        ),
        "person_like_rate": like_report(
            ((cols.person_likes + w * prior) / (cols.person_rated + w))[positives], test
        ),
    }
    rated = test.liked >= 0
    calibration = like_calibration(like[positives][rated], (test.liked[rated] == 1).astype(np.float64))
    single: dict[str, Any] | None = None
    if single_task:
        prepared = prepared or prepare(data_path, limit, N_TRAIN_NEGATIVES)
        config = replace(TrainConfig(), like_weight=0.0)
        solo = fit_ranker(prepared.train, prepared.validation, N_TRAIN_NEGATIVES, config)
        solo_rent, _ = solo.heads_columns(test.columns)
        ranking["single_task_rent_network"] = ranking_report(solo_rent, test)
        single = {"train_seconds": solo.manifest["train_seconds"], "epochs": len(solo.manifest["history"])}
    return {
        "suite": "recommend_ranker",
        "split": split.describe(),
        "test_rentals": len(test.events),
        "cold_start_rentals": int(test.cold.sum()),
        "no_history_rentals": int((test.columns.person_n[:: test.width] == 0).sum()),
        "n_negatives": ia.N_EVAL_NEGATIVES,
        "negatives": "uniform, without replacement, from items rented by anyone in the same calendar month",
        "ranker": {
            "version": ranker.version,
            "source": source,
            "alpha": ranker.alpha,
            "alphas_tried": list(ALPHAS),
            "train_seconds": ranker.manifest.get("train_seconds"),
            "epochs": len(ranker.manifest.get("history", [])),
            "validation_ndcg@10_by_alpha": ranker.manifest.get("validation_ndcg@10_by_alpha"),
            "validation_loved_ndcg@10_by_alpha": ranker.manifest.get("validation_loved_ndcg@10_by_alpha"),
        },
        "single_task": single,
        "ranking": ranking,
        "like_auc": liking,
        "like_calibration": calibration,
        "latency": scoring_latency_ms(ranker),
        "seconds": round(time.perf_counter() - started, 1),
    }
