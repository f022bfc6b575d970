"""``python -m evals intent``: how well the local router recognises intents.

Trains on ``evals/data/intents/train.jsonl`` and scores the dev split (or another
file), the way the product uses the router. Multi-intent turns in ``multi.jsonl``
are scored by exact match of the ordered intent list. Calibration is reported as
expected calibration error (ECE, 10 bins), since the confidence decides when a
turn is escalated or clarified.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from agent.intents import Intent
from agent.router import INTENT_DATA_DIR, IntentClassifier, load_examples, read_jsonl
from evals.measure import calibration_bins, expected_calibration_error, percentile
from rag.embeddings import default_encoder


def run(split: str = "dev", data_dir: Path = INTENT_DATA_DIR) -> dict[str, Any]:
    started = time.perf_counter()
    train = load_examples(data_dir / "train.jsonl")
    classifier = IntentClassifier(train, encoder=default_encoder())
    train_seconds = time.perf_counter() - started

    eval_path = data_dir / f"{split}.jsonl"
    rows = read_jsonl(eval_path)
    texts = [r["text"] for r in rows]
    gold = [r["intent"] for r in rows]
    latencies = []
    predictions = []
    for text in texts:
        t0 = time.perf_counter()
        predictions.append(classifier.predict(text))
        latencies.append((time.perf_counter() - t0) * 1000)
    predicted = [p.intent.value for p in predictions]
    labels = [i.value for i in Intent]
    per_intent = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    by_lang: dict[str, list[bool]] = {}
    for row, guess in zip(rows, predicted, strict=True):
        by_lang.setdefault(row.get("lang", "unknown"), []).append(guess == row["intent"])
    confusions = Counter(f"{g}->{p}" for g, p in zip(gold, predicted, strict=True) if g != p).most_common(10)

    result: dict[str, Any] = {
        "suite": "intent",
        "split": split,
        "train_examples": len(train),
        "eval_examples": len(rows),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(
            float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        "per_intent_f1": {label: round(float(f), 4) for label, f in zip(labels, per_intent, strict=True)},
        "accuracy_by_lang": {lang: round(sum(hits) / len(hits), 4) for lang, hits in sorted(by_lang.items())},
        "ece": round(
            expected_calibration_error(
                [p.confidence for p in predictions], [p == g for p, g in zip(predicted, gold, strict=True)]
            ),
            4,
        ),
        "top_confusions": confusions,
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(gold, predicted, labels=labels).tolist(),
        },
        "calibration": calibration_bins(
            [p.confidence for p in predictions], [p == g for p, g in zip(predicted, gold, strict=True)]
        ),
        "latency_ms_p50": percentile(latencies, 50, digits=3),
        "latency_ms_p99": percentile(latencies, 99, digits=3),
        "train_seconds": round(train_seconds, 2),
    }
    multi_path = data_dir / "multi.jsonl"
    if multi_path.is_file():
        multi = read_jsonl(multi_path)
        exact = [[r.intent.value for r in classifier.route(m["text"])] == m["intents"] for m in multi]
        result["multi_intent_examples"] = len(multi)
        result["multi_intent_exact_match"] = round(sum(exact) / len(exact), 4)
    return result
