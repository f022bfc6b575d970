"""Evaluation runs started from the API: one ``python -m evals all`` process at a time.

Evaluators start runs and read their reports without shell access. A run is a child process
writing into the reports folder (``<data_dir>/reports/<run_id>/``); the report itself records
the code version, settings and data versions, so the API keeps no state of its own beyond
the process it started. One run at a time: the suites saturate a small machine, and two
overlapping runs would distort each other's latency figures.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT

RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


class RunInProgress(RuntimeError):
    pass


class EvalRuns:
    def __init__(self, reports_dir: Path, command: Sequence[str] | None = None) -> None:
        self.reports_dir = reports_dir
        #: The process to start, before the run's own arguments (tests put a stand-in here).
        self.command = list(command) if command is not None else [sys.executable, "-m", "evals", "all"]
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._run_id: str | None = None

    def start(self, suites: Sequence[str] | None, benches: bool) -> str:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                raise RunInProgress(f"run {self._run_id} is still going; one run at a time")
            run_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
            self.reports_dir.mkdir(parents=True, exist_ok=True)
            arguments = [*self.command, "--out", str(self.reports_dir), "--run-id", run_id]
            if suites:
                arguments += ["--suites", ",".join(suites)]
            if benches:
                arguments.append("--benches")
            log = (self.reports_dir / f"{run_id}.log").open("wb")
            self._process = subprocess.Popen(  # noqa: S603 - our interpreter, arguments validated by the router
                arguments, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
            )
            log.close()
            self._run_id = run_id
            return run_id

    def running(self) -> str | None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self._run_id
            return None

    def report(self, run_id: str) -> dict[str, Any] | None:
        if not RUN_ID.match(run_id):
            return None
        path = self.reports_dir / run_id / "report.json"
        if not path.is_file():
            return None
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return report

    def html(self, run_id: str) -> str | None:
        if not RUN_ID.match(run_id):
            return None
        path = self.reports_dir / run_id / "report.html"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def summaries(self) -> list[dict[str, Any]]:
        """Every run started here, newest first, as its report says (or as started, before the report)."""
        if not self.reports_dir.is_dir():
            return []
        found = []
        for folder in sorted(self.reports_dir.iterdir(), reverse=True):
            if not folder.is_dir() or not RUN_ID.match(folder.name):
                continue
            report = self.report(folder.name) or {}
            found.append(
                {
                    "run_id": folder.name,
                    "complete": bool(report.get("complete")),
                    "running": folder.name == self.running(),
                    "started_at": report.get("started_at"),
                    "commit": (report.get("provenance") or {}).get("commit"),
                    "statuses": {k: v.get("status") for k, v in (report.get("suites") or {}).items()},
                }
            )
        return found

    def stop(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
