"""bench-events on the in-process bus: every event arrives once and the figures are consistent."""

from __future__ import annotations

import json

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


def test_batches_publish_every_event_too() -> None:
    result = run(events=1000, batch=300)  # the last batch is short
    assert (result["batch"], result["received"], result["lost"]) == (300, 1000, 0)
    assert run(events=10)["batch"] == 1
    assert "batches of 300" in table(result)


def test_a_batch_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch"):
        run(events=10, batch=0)


def test_the_command_line_takes_a_batch(capsys: pytest.CaptureFixture[str]) -> None:
    from evals.__main__ import main

    assert main(["bench-events", "--events", "200", "--batch", "50"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (last["suite"], last["batch"], last["received"]) == ("bench-events", 50, 200)
