"""``python -m evals all``: one report per run, partial when a run dies, a diff with the previous run.

The suites themselves are replaced by a fake runner (each has its own tests); what is tested here
is the harness: statuses, the report files, the partial marking, the diff and the HTML.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from evals.all import SuiteRun, diff, numbers, run

pytestmark = pytest.mark.unit

INTENT = {
    "suite": "intent",
    "macro_f1": 0.93,
    "per_intent_f1": {"outfit_advice": 0.94, "smalltalk": 0.9},
    "confusion": {"labels": ["outfit_advice", "smalltalk"], "matrix": [[9, 1], [0, 10]]},
    "calibration": [{"low": 0.8, "high": 0.9, "n": 10, "confidence": 0.85, "accuracy": 0.8}],
    "latency_ms_p99": 4.2,
}
SCENARIOS = {
    "suite": "scenarios",
    "pass_1": 0.97,
    "per_category": {"outfit_advice": {"tasks": 4, "pass_1": 1.0}},
    "turn_ms_histogram": [{"bin": "≤ 50 ms", "count": 7}, {"bin": "≤ 100 ms", "count": 2}],
}


def fake_runner(results: dict[str, SuiteRun]) -> Any:
    calls: list[str] = []

    def runner(name: str, args: Sequence[str], timeout_s: float) -> SuiteRun:
        calls.append(name)
        return results[name]

    runner.calls = calls  # type: ignore[attr-defined]
    return runner


def test_a_run_writes_a_complete_report_with_statuses_and_plots(tmp_path: Path) -> None:
    runner = fake_runner(
        {
            "intent": SuiteRun("ok", 3.0, INTENT, ""),
            "scenarios": SuiteRun("ok", 9.0, SCENARIOS, ""),
            "sizing": SuiteRun("crashed", 1.0, None, "Traceback: boom"),
        }
    )
    summary = run(suites=["intent", "scenarios", "sizing"], out=tmp_path, runner=runner)
    assert summary["statuses"] == {"intent": "ok", "scenarios": "ok", "sizing": "crashed"}
    assert summary["compared_with"] is None
    folder = Path(summary["report"]).parent
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["complete"] is True
    assert report["suites"]["sizing"]["stderr_tail"] == "Traceback: boom"
    assert len(report["provenance"]["commit"]) == 40
    assert "evals/data/intents/train.jsonl" in report["provenance"]["data"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 4  # F1 bars, confusion matrix, calibration, pass^1 by category
    assert "crashed" in page
    assert "PARTIAL" not in page


def test_calibration_and_latency_histograms_of_every_suite_are_plotted(tmp_path: Path) -> None:
    sizing = {
        "suite": "sizing",
        "calibration": [{"low": 0.5, "high": 0.6, "n": 5, "confidence": 0.55, "accuracy": 0.6}],
    }
    runner = fake_runner(
        {
            "intent": SuiteRun("ok", 3.0, INTENT, ""),
            "scenarios": SuiteRun("ok", 9.0, SCENARIOS, ""),
            "sizing": SuiteRun("ok", 2.0, sizing, ""),
        }
    )
    summary = run(suites=["intent", "scenarios", "sizing"], out=tmp_path, runner=runner)
    page = (Path(summary["report"]).parent / "report.html").read_text(encoding="utf-8")
    assert "Intent router calibration" in page
    assert "Fit model calibration (top label, test split)" in page
    assert "scenarios: turn ms (count per bin)" in page
    assert "≤ 50 ms" in page


def test_a_run_that_dies_leaves_a_partial_report(tmp_path: Path) -> None:
    def dying(name: str, args: Sequence[str], timeout_s: float) -> SuiteRun:
        if name == "scenarios":
            raise KeyboardInterrupt
        return SuiteRun("ok", 1.0, INTENT, "")

    with pytest.raises(KeyboardInterrupt):
        run(suites=["intent", "scenarios"], out=tmp_path, runner=dying)
    [folder] = list(tmp_path.iterdir())
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["complete"] is False
    assert report["suites"]["intent"]["status"] == "ok"
    assert report["suites"]["scenarios"]["status"] == "running"
    assert "PARTIAL" in (folder / "report.html").read_text(encoding="utf-8")


def test_the_next_run_is_compared_with_the_last_complete_one(tmp_path: Path) -> None:
    first = fake_runner({"intent": SuiteRun("ok", 1.0, INTENT, "")})
    run(suites=["intent"], out=tmp_path, runner=first, run_id="20261128T000001Z")
    better = {**INTENT, "macro_f1": 0.95}
    summary = run(
        suites=["intent"],
        out=tmp_path,
        runner=fake_runner({"intent": SuiteRun("ok", 1.0, better, "")}),
        run_id="20261128T000002Z",
    )
    assert summary["compared_with"] == "20261128T000001Z"
    assert summary["changed_numbers"] == 1
    report = json.loads(Path(summary["report"]).with_name("report.json").read_text(encoding="utf-8"))
    [change] = report["diff"]
    assert change["path"] == "intent.macro_f1"
    assert change["delta"] == pytest.approx(0.02)


def test_numbers_and_diff() -> None:
    assert dict(numbers({"a": 1, "b": {"c": 2.5, "d": True, "e": "x"}, "f": [3]})) == {
        "a": 1.0,
        "b.c": 2.5,
        "f[0]": 3.0,
    }
    before = {"suites": {"s": {"result": {"x": 1, "gone": 2}}}}
    after = {"suites": {"s": {"result": {"x": 1.5, "new": 3}}}}
    assert diff(before, after) == [
        {"path": "s.gone", "before": 2.0, "after": None, "delta": None},
        {"path": "s.new", "before": None, "after": 3.0, "delta": None},
        {"path": "s.x", "before": 1.0, "after": 1.5, "delta": 0.5},
    ]


def test_unknown_suites_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown suites"):
        run(suites=["intnet"], out=tmp_path, runner=fake_runner({}))


def test_the_ranker_like_head_is_drawn_beside_the_other_reliability_diagrams(tmp_path: Path) -> None:
    recommend = {
        "suite": "recommend",
        "ranker": {
            "like_calibration": {
                "n": 30,
                "ece": 0.042,
                "reliability": [
                    {"low": 0.0, "high": 0.1, "mean_predicted": None, "observed_like_rate": None, "count": 0},
                    {"low": 0.5, "high": 0.6, "mean_predicted": 0.55, "observed_like_rate": 0.5, "count": 20},
                    {"low": 0.9, "high": 1.0, "mean_predicted": 0.93, "observed_like_rate": 0.9, "count": 10},
                ],
            }
        },
    }
    runner = fake_runner(
        {"intent": SuiteRun("ok", 3.0, INTENT, ""), "recommend": SuiteRun("ok", 5.0, recommend, "")}
    )
    summary = run(suites=["intent", "recommend"], out=tmp_path, runner=runner)
    page = (Path(summary["report"]).parent / "report.html").read_text(encoding="utf-8")
    assert "Intent router calibration" in page
    assert "Ranker like head calibration (test split, ECE 0.042)" in page
    assert page.index("Intent router calibration") < page.index("Ranker like head calibration")
    diagram = page.split("Ranker like head calibration")[1].split("</svg>")[0]
    assert diagram.count("<circle") == 2  # the empty bin is not drawn
    assert "mean P(like) →" in diagram
