"""Wardrobe photo tagging on the 300 catalogue thumbnails: colour, category, pattern, speed.

* **Colour** (image alone): the tagger's top colour against the catalogue's ``baseColour``,
  exactly and by colour family (``graphs.rules.COLOURS``). The labels name the product's main
  colour, which on a model shot is not always the largest garment area, so the figure is a floor.
* **Category**: the same photos train the image model, so every figure is out-of-fold (5-fold
  stratified CV; each photo is predicted by a model that never saw it). Article-type accuracy counts
  a rare type predicted as its kind as wrong; ItemKind accuracy is the coarse one outfits need.
  Majority-class baselines sit beside each.
* **Image + caption** (``evals/data/wardrobe/captions.jsonl``, written by looking at the photos
  only): with the fixed default caption weight (nothing tuned on captions; the headline figure),
  and with the weight chosen by an inner CV on the training folds only (never on the fold scored).
  **Caption alone** is the zero-shot reader with no image model.
* **Pattern**: there are no pattern labels, so only the distribution of guesses is reported.
* **Speed**: per photo, one at a time, on this machine: segmentation, colours, pattern, features
  and classification (p50/p95 ms); the caption reader separately. Segmenter mix: how many photos
  were cut from a person and how many by the classical (GrabCut) path.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.config import REPO_ROOT
from evals.measure import latency_histogram, percentile
from graphs.rules import COLOURS
from graphs.vocabulary import article_kind
from tools.wardrobe.classify import (
    DEFAULT_CAPTION_WEIGHT,
    MIN_EXAMPLES,
    SEED,
    CaptionClassifier,
    combine,
    default_caption_classifier,
    fit_image_model,
    image_features,
    is_article_label,
    label_kind,
    out_of_fold,
    training_label,
    tune_caption_weight,
)
from tools.wardrobe.colours import dominant_colours
from tools.wardrobe.images import ImageRejected
from tools.wardrobe.pattern import detect_pattern
from tools.wardrobe.segment import Segmentation, Segmenter, default_segmenter

log = logging.getLogger(__name__)

THUMBNAILS = REPO_ROOT / "data" / "catalog" / "thumbnails"
CAPTIONS = REPO_ROOT / "evals" / "data" / "wardrobe" / "captions.jsonl"
FOLDS = 5

Ranked = list[tuple[str, float]]


def load_rows(limit: int | None = None, thumbnails: Path = THUMBNAILS) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (thumbnails / "index.jsonl").read_text().splitlines() if line]
    return rows[:limit] if limit is not None else rows


def load_captions(path: Path = CAPTIONS) -> dict[str, tuple[str, str]]:
    """id -> (caption, lang)."""
    out: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out[str(record["id"])] = (str(record["caption"]), str(record.get("lang", "en")))
    return out


def _article(ranked: Ranked, caption_probs: dict[str, float] | None) -> str | None:
    """The article type a ranking names: its top label, or for a kind label the caption's best
    reading of that kind (what the tagger files the item under)."""
    if not ranked:
        return None
    label = ranked[0][0]
    if is_article_label(label):
        return label
    if caption_probs:
        best = max(caption_probs.items(), key=lambda cp: cp[1])[0]
        if label_kind(best) == label_kind(label):
            return best
    return None


def _scores(
    predicted: Sequence[str | None], rows: Sequence[dict[str, Any]], kinds: Sequence[str | None] | None = None
) -> dict[str, float]:
    truth = [r["articleType"] for r in rows]
    n = len(rows)
    predicted_kinds = kinds if kinds is not None else [label_kind(p).value if p else None for p in predicted]
    return {
        "article_accuracy": round(sum(p == t for p, t in zip(predicted, truth, strict=True)) / n, 4),
        "kind_accuracy": round(
            sum(k == article_kind(t).value for k, t in zip(predicted_kinds, truth, strict=True)) / n, 4
        ),
    }


def _by_language(
    predicted: Sequence[str | None], rows: Sequence[dict[str, Any]], langs: Sequence[str]
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lang in sorted(set(langs)):
        picks = [i for i, code in enumerate(langs) if code == lang]
        out[lang] = {"n": len(picks), **_scores([predicted[i] for i in picks], [rows[i] for i in picks])}
    return out


def nested_combination(
    features: np.ndarray[Any, Any],
    labels: Sequence[str],
    image_oof: Sequence[Ranked],
    captions: Sequence[dict[str, float] | None],
    *,
    folds: int = FOLDS,
    seed: int = SEED,
) -> tuple[list[Ranked], list[float]]:
    """Image+caption rankings where each fold's caption weight was tuned on the other folds alone
    (by an inner CV over them), and the weights chosen."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    out: list[Ranked] = [[] for _ in labels]
    chosen: list[float] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for train_rows, test_rows in splitter.split(features, y):
            inner = out_of_fold(features[train_rows], list(y[train_rows]), folds=folds - 1, seed=seed + 1)
            weight = tune_caption_weight(inner, [captions[i] for i in train_rows], list(y[train_rows]))
            chosen.append(weight)
            for row in test_rows:
                out[row] = combine(image_oof[row], captions[row], weight=weight)
    return out, chosen


def run(
    *,
    limit: int | None = None,
    captions_path: Path | None = None,
    segmenter: Segmenter | None = None,
    caption_classifier: CaptionClassifier | None = None,
    folds: int = FOLDS,
    seed: int = SEED,
) -> dict[str, Any]:
    started = time.perf_counter()
    rows = load_rows(limit)
    segmenter = segmenter or default_segmenter()
    reader = caption_classifier or default_caption_classifier()
    captions_path = captions_path or CAPTIONS
    caption_map = load_captions(captions_path)

    features: list[np.ndarray[Any, Any]] = []
    totals: list[float] = []
    stages: dict[str, list[float]] = {"segment": [], "colours": [], "pattern": [], "features": []}
    methods: Counter[str] = Counter()
    patterns: Counter[str] = Counter()
    colour_exact = colour_family = 0
    rejected = 0
    for row in rows:
        rgb = np.asarray(Image.open(THUMBNAILS / Path(row["image"]).name).convert("RGB"))
        t0 = time.perf_counter()
        try:
            segmentation = segmenter.segment(rgb)
        except ImageRejected:
            rejected += 1
            mask = np.ones(rgb.shape[:2], bool)
            segmentation = Segmentation(mask, "rejected", False, 1.0, (0, 0, rgb.shape[1], rgb.shape[0]))
        t1 = time.perf_counter()
        colours = dominant_colours(rgb, segmentation.mask)
        t2 = time.perf_counter()
        pattern = detect_pattern(rgb, segmentation.mask)
        t3 = time.perf_counter()
        features.append(image_features(rgb, segmentation))
        t4 = time.perf_counter()
        for name, ms in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[name].append(ms * 1000)
        totals.append((t4 - t0) * 1000)
        methods[segmentation.method] += 1
        patterns[pattern.name] += 1
        top = colours[0].name if colours else None
        truth = row["baseColour"]
        colour_exact += top == truth
        colour_family += top in COLOURS and truth in COLOURS and COLOURS[top].family == COLOURS[truth].family
    image_seconds = time.perf_counter() - started

    x = np.vstack(features)
    truth = [r["articleType"] for r in rows]
    counts = Counter(truth)
    common = {a for a, n in counts.items() if n >= MIN_EXAMPLES}
    labels = [training_label(a, common) for a in truth]
    t0 = time.perf_counter()
    image_oof = out_of_fold(x, labels, folds=folds, seed=seed)
    cv_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit_image_model(x, labels)
    fit_seconds = time.perf_counter() - t0

    caption_texts = [caption_map.get(str(r["id"]), ("", "none")) for r in rows]
    langs = [lang for _, lang in caption_texts]
    caption_ms: list[float] = []
    caption_probs: list[dict[str, float] | None] = []
    for text, _ in caption_texts:
        t0 = time.perf_counter()
        caption_probs.append(reader.scores(text) if text else None)
        caption_ms.append((time.perf_counter() - t0) * 1000)
    caption_only: list[Ranked] = [
        sorted(p.items(), key=lambda cp: -cp[1]) if p else [] for p in caption_probs
    ]
    fixed = [
        combine(img, cap, weight=DEFAULT_CAPTION_WEIGHT)
        for img, cap in zip(image_oof, caption_probs, strict=True)
    ]
    nested, weights = nested_combination(x, labels, image_oof, caption_probs, folds=folds, seed=seed)

    image_pred = [_article(r, None) for r in image_oof]
    image_kinds = [label_kind(r[0][0]).value for r in image_oof]
    fixed_pred = [_article(r, c) for r, c in zip(fixed, caption_probs, strict=True)]
    nested_pred = [_article(r, c) for r, c in zip(nested, caption_probs, strict=True)]
    caption_pred = [r[0][0] if r else None for r in caption_only]
    majority_article, majority_n = counts.most_common(1)[0]
    kind_counts = Counter(article_kind(a).value for a in truth)
    majority_kind, majority_kind_n = kind_counts.most_common(1)[0]
    n = len(rows)
    return {
        "suite": "wardrobe",
        "images": n,
        "limit": limit,
        "folds": folds,
        "seed": seed,
        "captions_file": str(captions_path),
        "colour": {
            "exact_accuracy": round(colour_exact / n, 4),
            "family_accuracy": round(colour_family / n, 4),
            "majority_baseline": round(Counter(r["baseColour"] for r in rows).most_common(1)[0][1] / n, 4),
        },
        "category": {
            "labels": sorted(set(labels)),
            "min_examples": MIN_EXAMPLES,
            "majority_baseline": {
                "article": majority_article,
                "article_accuracy": round(majority_n / n, 4),
                "kind": majority_kind,
                "kind_accuracy": round(majority_kind_n / n, 4),
            },
            "image": {
                **_scores(image_pred, rows, image_kinds),
                "label_accuracy": round(
                    sum(r[0][0] == y for r, y in zip(image_oof, labels, strict=True)) / n, 4
                ),
            },
            "image_caption": {
                **_scores(fixed_pred, rows, [label_kind(r[0][0]).value for r in fixed]),
                "caption_weight": DEFAULT_CAPTION_WEIGHT,
                "by_language": _by_language(fixed_pred, rows, langs),
            },
            "image_caption_tuned": {
                **_scores(nested_pred, rows, [label_kind(r[0][0]).value for r in nested]),
                "caption_weights": weights,
            },
            "caption": {
                **_scores(caption_pred, rows),
                "coverage": round(sum(p is not None for p in caption_probs) / n, 4),
                "by_language": _by_language(caption_pred, rows, langs),
            },
        },
        "pattern": {
            "labelled": False,
            "note": "no pattern labels exist for these photos; distribution of guesses only",
            "distribution": dict(patterns.most_common()),
        },
        "segmentation": {"methods": dict(methods.most_common()), "rejected": rejected},
        "per_image_ms_histogram": latency_histogram(totals),
        "timing_ms": {
            "per_image_p50": percentile(totals, 50, digits=1),
            "per_image_p95": percentile(totals, 95, digits=1),
            **{f"{name}_p50": percentile(values, 50, digits=1) for name, values in stages.items()},
            "caption_p50": percentile(caption_ms, 50, digits=1),
            "caption_p95": percentile(caption_ms, 95, digits=1),
        },
        "seconds": {
            "images": round(image_seconds, 1),
            "cv": round(cv_seconds, 1),
            "train_full": round(fit_seconds, 2),
            "total": round(time.perf_counter() - started, 1),
        },
    }


def table(result: dict[str, Any]) -> str:
    cat = result["category"]
    base = cat["majority_baseline"]
    colour = result["colour"]
    timing = result["timing_ms"]
    lines = [
        f"wardrobe: {result['images']} catalogue thumbnails, {result['folds']}-fold out-of-fold CV "
        f"(seed {result['seed']}), {len(cat['labels'])} image labels "
        f"(types with ≥ {cat['min_examples']} photos)",
        f"{'category from':24s} {'article':>8s} {'kind':>8s}",
        f"{'majority baseline':24s} {base['article_accuracy']:8.3f} {base['kind_accuracy']:8.3f}"
        f"   ({base['article']} / {base['kind']})",
    ]
    for name, key in (
        ("image", "image"),
        ("caption alone", "caption"),
        ("image + caption", "image_caption"),
        ("image + caption (tuned)", "image_caption_tuned"),
    ):
        lines.append(f"{name:24s} {cat[key]['article_accuracy']:8.3f} {cat[key]['kind_accuracy']:8.3f}")
    for lang, s in cat["image_caption"]["by_language"].items():
        caption_alone = cat["caption"]["by_language"][lang]
        lines.append(
            f"  {lang} (n={s['n']}): image+caption {s['article_accuracy']:.3f} / {s['kind_accuracy']:.3f}, "
            f"caption alone {caption_alone['article_accuracy']:.3f} / {caption_alone['kind_accuracy']:.3f}"
        )
    lines += [
        f"caption coverage {cat['caption']['coverage']:.3f}; tuned weights per fold "
        f"{cat['image_caption_tuned']['caption_weights']}",
        f"colour: exact {colour['exact_accuracy']:.3f}, family {colour['family_accuracy']:.3f} "
        f"(majority {colour['majority_baseline']:.3f})",
        f"pattern (no labels): {result['pattern']['distribution']}",
        f"segmenter: {result['segmentation']['methods']} (rejected {result['segmentation']['rejected']})",
        f"per photo: p50 {timing['per_image_p50']} ms, p95 {timing['per_image_p95']} ms "
        f"(segment p50 {timing['segment_p50']}); caption p50 {timing['caption_p50']} ms",
    ]
    return "\n".join(lines)
