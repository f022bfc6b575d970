"""The shared figures every suite reports: reliability bins and latency histograms."""

from __future__ import annotations

import pytest

from evals.measure import LATENCY_EDGES_MS, calibration_bins, expected_calibration_error, latency_histogram

pytestmark = pytest.mark.unit


def test_latency_histogram_counts_every_value_once_in_its_bin() -> None:
    bins = latency_histogram([5.0, 10.0, 12.0, 99.0, 6000.0])
    assert [b["bin"] for b in bins][:2] == ["≤ 10 ms", "≤ 25 ms"]
    assert bins[-1]["bin"] == f"> {LATENCY_EDGES_MS[-1]} ms"
    counts = {str(b["bin"]): b["count"] for b in bins}
    assert counts["≤ 10 ms"] == 2
    assert counts["≤ 25 ms"] == 1
    assert counts["≤ 100 ms"] == 1
    assert counts["> 5000 ms"] == 1
    assert sum(int(b["count"]) for b in bins) == 5
    assert all(b["count"] == 0 for b in latency_histogram([]))


def test_reliability_bins_and_ece() -> None:
    bins = calibration_bins([0.95, 0.95, 0.55, 0.55], [True, False, True, True])
    assert [(b["n"], b["confidence"], b["accuracy"]) for b in bins] == [(2, 0.55, 1.0), (2, 0.95, 0.5)]
    assert expected_calibration_error([0.95, 0.95, 0.55, 0.55], [True, False, True, True]) == pytest.approx(
        0.45
    )
