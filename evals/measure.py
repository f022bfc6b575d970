"""What every benchmark reports alongside its figures: percentiles, and the machine they came from."""

from __future__ import annotations

import itertools
import os
import platform
from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info


def percentile(values: Sequence[float], q: float, *, digits: int = 2) -> float | None:
    return round(float(np.percentile(values, q)), digits) if values else None


def _blas_threads() -> list[dict[str, Any]]:
    """Threads of each BLAS numpy uses: on a busy machine a multi-threaded BLAS makes small matrix
    products far slower, so the figures mean little without it."""
    return [
        {"api": info.get("internal_api"), "threads": info.get("num_threads")} for info in threadpool_info()
    ]


def machine() -> dict[str, Any]:
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "blas": _blas_threads(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity(0)) if affinity else os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": platform.python_version(),
        "system": platform.system(),
    }


def _bins(
    confidences: list[float], correct: list[bool], bins: int
) -> list[tuple[float, float, int, float, float]]:
    """(low, high, count, mean confidence, accuracy) of each non-empty confidence bin."""
    conf, hit = np.asarray(confidences), np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    found = []
    for low, high in itertools.pairwise(edges):
        mask = (conf > low) & (conf <= high)
        if mask.any():
            found.append(
                (float(low), float(high), int(mask.sum()), float(conf[mask].mean()), float(hit[mask].mean()))
            )
    return found


def calibration_bins(confidences: list[float], correct: list[bool], bins: int = 10) -> list[dict[str, float]]:
    """The reliability diagram's points: per confidence bin, its count, mean confidence and accuracy."""
    return [
        {
            "low": round(low, 2),
            "high": round(high, 2),
            "n": n,
            "confidence": round(c, 4),
            "accuracy": round(a, 4),
        }
        for low, high, n, c, a in _bins(confidences, correct, bins)
    ]


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    total = len(confidences)
    return (
        float(sum(n / total * abs(a - c) for _, _, n, c, a in _bins(confidences, correct, bins)))
        if total
        else 0.0
    )


#: Upper edges (ms) of the latency histograms' bins; the last bin holds everything slower.
LATENCY_EDGES_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


def latency_histogram(values_ms: Sequence[float]) -> list[dict[str, float | int | str]]:
    """Counts per latency bin ("≤ 50 ms", ..., "> 5000 ms"), for the report's histograms."""
    # searchsorted(side="left") puts a value equal to an edge in that edge's "≤" bin.
    index = np.searchsorted(np.asarray(LATENCY_EDGES_MS, dtype=float), np.asarray(values_ms, dtype=float))
    counts = [int(n) for n in np.bincount(index, minlength=len(LATENCY_EDGES_MS) + 1)]
    labels = [f"≤ {edge} ms" for edge in LATENCY_EDGES_MS] + [f"> {LATENCY_EDGES_MS[-1]} ms"]
    return [{"bin": label, "count": n} for label, n in zip(labels, counts, strict=True)]
