"""bench-events on the in-process bus: every event arrives once and the figures are consistent."""

from __future__ import annotations

import pytest

from evals.bench_events import run, table

pytestmark = pytest.mark.unit


def test_every_published_event_is_received_and_timed() -> None:
    result = run(events=300)
    assert result["backend"] == "memory"
    assert result["received"] == 300
    assert result["lost"] == 0
    assert result["publish_per_s"] > 0
    assert result["end_to_end_per_s"] > 0
    assert 0 <= result["latency_ms_p50"] <= result["latency_ms_p99"]
    assert "lost 0" in table(result)
