"""``python -m evals bench-agent`` on a handful of turns, template responder only."""

from __future__ import annotations

import json

import pytest

from agent.router import INTENT_DATA_DIR, read_jsonl
from evals.__main__ import main
from evals.bench_agent import TurnTiming, summarise, utterances

pytestmark = pytest.mark.unit


def test_a_tiny_run_prints_a_table_then_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-agent", "--turns", "4", "--warmup", "1", "--no-llm"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].split()[:2] == ["mode", "turns"]
    result = json.loads(lines[-1])
    assert result["suite"] == "bench-agent"
    assert result["machine"]["cpu_count"] >= 1
    template = result["template"]
    assert template["turns"] == 4
    assert template["new_session_turns"] == 2  # alternating new and continued sessions
    assert 0 < template["turn_ms_p50"] <= template["turn_ms_p99"]
    assert template["ttft_ms_p50"] <= template["turn_ms_p50"]
    assert template["llm_kept_share"] is None
    assert result["llm"] is None
    assert result["targets"] == {"turn_ms_p50_without_llm": 150.0, "ttft_ms_p50_with_llm": 300.0}
    assert result["pass"]["turn_ms_p50_without_llm"] is (template["turn_ms_p50"] <= 150.0)
    assert result["pass"]["ttft_ms_p50_with_llm"] is None


def test_llm_figures_count_only_replies_the_llm_was_asked_to_word() -> None:
    def turn(
        source: str | None, first_token_ms: float | None = 5.0, reset: bool = False, asked: bool = True
    ) -> TurnTiming:
        return TurnTiming(True, 10.0, first_token_ms, source, reset, False, asked)

    summary = summarise(
        [
            turn("llm", 300.0),
            turn("template", 500.0, reset=True),
            turn("guard", None, asked=False),
            turn("llm", 400.0),
            turn("template", 20.0, asked=False),  # a clarifying question, sent as written
        ],
        llm=True,
    )
    assert summary["llm_kept_share"] == pytest.approx(2 / 3, abs=0.001)
    assert summary["llm_turns"] == 3
    assert summary["llm_ttft_ms_p50"] == 400.0
    assert summary["reply_sources"] == {"guard": 1, "llm": 2, "template": 2}
    assert (summary["resets"], summary["turns_without_token"]) == (1, 1)


def test_utterances_are_a_fixed_mix_of_the_dev_split() -> None:
    dev = {row["text"] for row in read_jsonl(INTENT_DATA_DIR / "dev.jsonl")}
    first, again = utterances(len(dev) + 10), utterances(len(dev) + 10)
    assert first == again
    assert set(first) == dev  # every dev utterance, then repeats
    assert utterances(20) == first[:20]
