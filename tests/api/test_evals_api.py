"""Evaluation runs through the API: evaluators start runs and read reports; others may not.

The real ``python -m evals all`` takes minutes, so the run's process here is a stand-in script
that writes a report in the same place and format; ``tests/evals/test_all.py`` tests the harness.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, Session

pytestmark = pytest.mark.unit

STAND_IN = """
import json, sys, time
from pathlib import Path
args = sys.argv[1:]
out, run_id = Path(args[args.index("--out") + 1]), args[args.index("--run-id") + 1]
suites = args[args.index("--suites") + 1].split(",") if "--suites" in args else ["intent"]
folder = out / run_id
folder.mkdir(parents=True)
report = {"run_id": run_id, "complete": False, "provenance": {"commit": "abc"},
          "suites": {s: {"status": "running"} for s in suites}}
(folder / "report.json").write_text(json.dumps(report))
time.sleep(float(__import__("os").environ.get("STAND_IN_SLEEP", "0.3")))
report["complete"] = True
report["suites"] = {s: {"status": "ok", "result": {"suite": s, "figure": 1}} for s in suites}
(folder / "report.json").write_text(json.dumps(report))
(folder / "report.html").write_text("<h1>report " + run_id + "</h1>")
"""


@pytest.fixture
def evaluator(client: TestClient, new_user: Callable[..., Session], tmp_path: Path) -> Session:
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN, encoding="utf-8")
    client.app.state.eval_runs.command = [sys.executable, str(script)]  # type: ignore[attr-defined]
    return new_user(role="evaluator")


def _wait_complete(client: TestClient, who: Session, run_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        report: dict[str, object] = client.get(f"{API}/evals/runs/{run_id}", headers=who.headers).json()
        if report.get("complete"):
            return report
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not complete")


def test_an_evaluator_starts_a_run_and_reads_its_report(client: TestClient, evaluator: Session) -> None:
    started = client.post(
        f"{API}/evals/runs", json={"suites": ["intent", "sizing"]}, headers=evaluator.headers
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    busy = client.post(f"{API}/evals/runs", json={}, headers=evaluator.headers)
    assert busy.status_code == 409  # one run at a time
    report = _wait_complete(client, evaluator, run_id)
    assert report["suites"] == {
        "intent": {"status": "ok", "result": {"suite": "intent", "figure": 1}},
        "sizing": {"status": "ok", "result": {"suite": "sizing", "figure": 1}},
    }
    page = client.get(f"{API}/evals/runs/{run_id}/html", headers=evaluator.headers)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert run_id in page.text
    runs = client.get(f"{API}/evals/runs", headers=evaluator.headers).json()
    assert runs[0]["run_id"] == run_id
    assert runs[0]["complete"] is True
    assert runs[0]["statuses"] == {"intent": "ok", "sizing": "ok"}


def test_only_evaluators_and_admins_may_run_evaluations(
    client: TestClient, evaluator: Session, new_user: Callable[..., Session]
) -> None:
    shopper = new_user(role="user")
    assert client.get(f"{API}/evals/runs", headers=shopper.headers).status_code == 403
    assert client.post(f"{API}/evals/runs", json={}, headers=shopper.headers).status_code == 403
    assert client.get(f"{API}/evals/runs").status_code == 401


def test_bad_requests(client: TestClient, evaluator: Session) -> None:
    unknown = client.post(f"{API}/evals/runs", json={"suites": ["intnet"]}, headers=evaluator.headers)
    assert unknown.status_code == 422
    assert "unknown suites" in unknown.text
    missing = client.get(f"{API}/evals/runs/20260101T000000Z-abcdef", headers=evaluator.headers)
    assert missing.status_code == 404
    traversal = client.get(f"{API}/evals/runs/..%2F..%2Fetc", headers=evaluator.headers)
    assert traversal.status_code in (404, 422)
