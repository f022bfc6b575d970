from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from evals.intent import run
from evals.measure import expected_calibration_error

pytestmark = pytest.mark.unit


def _write(path: Path, rows: Sequence[Mapping[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_calibration_error_is_zero_when_confidence_matches_accuracy() -> None:
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0, 1.0], [False, False]) == pytest.approx(1.0)


def test_run_reports_every_figure_on_a_small_data_set(tmp_path: Path) -> None:
    greet = ["hi there", "hello!", "你好呀", "good morning", "嗨", "hey hey"]
    human = [
        "转人工",
        "let me talk to a person",
        "I want a human agent",
        "人工客服",
        "real person please",
        "找客服",
    ]
    _write(tmp_path / "train.jsonl", [{"text": t, "intent": "smalltalk", "lang": "en"} for t in greet]
           + [{"text": t, "intent": "handoff_human", "lang": "en"} for t in human])  # fmt: skip
    _write(
        tmp_path / "dev.jsonl",
        [
            {"text": "hello friend", "intent": "smalltalk", "lang": "en"},
            {"text": "请帮我转人工客服", "intent": "handoff_human", "lang": "zh"},
        ],
    )
    _write(
        tmp_path / "multi.jsonl",
        [{"text": "hi, and then get me a human agent", "intents": ["smalltalk", "handoff_human"]}],
    )
    result = run(split="dev", data_dir=tmp_path)
    assert result["train_examples"] == 12
    assert result["eval_examples"] == 2
    assert 0 <= result["macro_f1"] <= 1
    assert set(result["per_intent_f1"]) >= {"smalltalk", "handoff_human", "outfit_advice"}
    assert set(result["accuracy_by_lang"]) == {"en", "zh"}
    assert result["multi_intent_examples"] == 1
    assert result["latency_ms_p50"] > 0
    json.dumps(result)  # the command prints it as one JSON line
