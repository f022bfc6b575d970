"""``python -m evals all``: every evaluation in one run, one report (JSON + HTML), a diff with the last run.

Each suite runs as its own ``python -m evals <suite>`` process, so a suite that crashes, hangs
or runs out of memory costs only its own entry: the report marks it (``crashed``, ``timeout``,
``no_result``) and the others still run. The report is rewritten after every suite with
``complete: false`` until the last one has finished, so a run that dies half-way leaves a
partial report that says so.

A report records what produced it (git commit and whether the tree was dirty, the ``IK_*``
settings in force with secrets masked, the sha256 of the labelled data and the shipped
catalogue), so two runs can be compared; the diff lists every number that changed against
the newest earlier report in the same folder.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT

#: What ``all`` runs by default, with each suite's arguments; benches are opt-in (they take minutes
#: and want a quiet machine).
DEFAULT_SUITES: dict[str, list[str]] = {
    "intent": [],
    "search": [],
    "sizing": [],
    "recommend": [],
    "wardrobe": [],
    "voice": [],
    "tryon": [],
    "scenarios": ["--k", "4"],
}
BENCHES: dict[str, list[str]] = {
    "bench-search": [],
    "bench-sizing": [],
    "bench-recommend": [],
    "bench-agent": ["--no-llm"],
    "bench-tryon": [],
}
SUITE_TIMEOUT_S = 1800
_SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN", "KEY")
#: Labelled and shipped data whose versions a report records.
DATA_FILES = (
    "evals/data/intents/train.jsonl",
    "evals/data/intents/dev.jsonl",
    "evals/data/scenarios/en.jsonl",
    "evals/data/scenarios/zh.jsonl",
    "data/catalog/styles_clean.jsonl.gz",
)


@dataclass(frozen=True)
class SuiteRun:
    status: str  # ok | failed | crashed | timeout | no_result
    seconds: float
    result: dict[str, Any] | None
    tail: str


Runner = Callable[[str, Sequence[str], float], SuiteRun]


def run_suite(name: str, args: Sequence[str], timeout_s: float) -> SuiteRun:
    """``python -m evals <name> <args>``; its last stdout line is the result."""
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, arguments from this file
            [sys.executable, "-m", "evals", name, *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stderr or b"")[-2000:] if isinstance(exc.stderr, bytes) else (exc.stderr or "")[-2000:]
        return SuiteRun("timeout", round(time.perf_counter() - started, 1), None, str(tail))
    seconds = round(time.perf_counter() - started, 1)
    tail = (done.stderr or "")[-2000:]
    result = _last_json(done.stdout)
    if result is None:
        return SuiteRun("crashed" if done.returncode not in (0, 1) else "no_result", seconds, None, tail)
    return SuiteRun("ok" if done.returncode == 0 else "failed", seconds, result, tail)


def _last_json(stdout: str) -> dict[str, Any] | None:
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    if not lines:
        return None
    try:
        value = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def provenance() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(  # noqa: S603
                ["git", *args],  # noqa: S607 - git from PATH, like the developer's own shell
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        except OSError:
            return ""

    settings = {
        key: ("***" if any(word in key for word in _SECRET_WORDS) else value)
        for key, value in sorted(os.environ.items())
        if key.startswith("IK_")
    }
    data = {}
    for relative in DATA_FILES:
        path = REPO_ROOT / relative
        if path.is_file():
            data[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain")),
        "settings": settings,
        "data": data,
    }


def numbers(value: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every numeric leaf of a JSON value with its dotted path (list items by index)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield prefix, float(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from numbers(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from numbers(item, f"{prefix}[{index}]")


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Numbers that changed (or appeared, or went) between two reports' suite results."""
    old = dict(numbers({k: v.get("result") for k, v in before.get("suites", {}).items()}))
    new = dict(numbers({k: v.get("result") for k, v in after.get("suites", {}).items()}))
    changes = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        if a != b:
            changes.append(
                {"path": path, "before": a, "after": b, "delta": None if a is None or b is None else b - a}
            )
    return changes


def previous_report(folder: Path, current: str) -> dict[str, Any] | None:
    """The newest complete report in ``folder`` older than the run ``current``."""
    for candidate in sorted((p for p in folder.iterdir() if p.is_dir() and p.name < current), reverse=True):
        path = candidate / "report.json"
        if path.is_file():
            report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            if report.get("complete"):
                return report
    return None


def run(
    *,
    suites: Sequence[str] | None = None,
    benches: bool = False,
    out: Path | None = None,
    timeout_s: float = SUITE_TIMEOUT_S,
    runner: Runner = run_suite,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Run the suites, rewriting the report after each; ``run_id`` (a sortable time stamp by default)
    names the report's folder, and the newest earlier complete folder is the one compared with."""
    chosen = {**DEFAULT_SUITES, **(BENCHES if benches else {})}
    if suites:
        unknown = [s for s in suites if s not in DEFAULT_SUITES and s not in BENCHES]
        if unknown:
            raise ValueError(f"unknown suites {unknown}; known: {sorted({*DEFAULT_SUITES, *BENCHES})}")
        chosen = {s: {**DEFAULT_SUITES, **BENCHES}[s] for s in suites}
    folder = out or REPO_ROOT / "var" / "reports"
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / run_id
    target.mkdir(parents=True, exist_ok=False)
    report: dict[str, Any] = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "complete": False,
        "provenance": provenance(),
        "suites": {},
    }
    previous = previous_report(folder, run_id)
    for name, args in chosen.items():
        report["suites"][name] = {"status": "running"}
        _write(target, report, previous)
        outcome = runner(name, args, timeout_s)
        report["suites"][name] = {
            "status": outcome.status,
            "seconds": outcome.seconds,
            "result": outcome.result,
            **({"stderr_tail": outcome.tail} if outcome.status != "ok" else {}),
        }
    report["complete"] = True
    report["finished_at"] = datetime.now(UTC).isoformat()
    _write(target, report, previous)
    return {
        "suite": "all",
        "report": str(target / "report.html"),
        "complete": True,
        "statuses": {name: entry["status"] for name, entry in report["suites"].items()},
        "compared_with": previous["run_id"] if previous else None,
        "changed_numbers": len(report.get("diff") or []),
    }


def _write(target: Path, report: dict[str, Any], previous: dict[str, Any] | None) -> None:
    report["diff"] = diff(previous, report) if previous is not None else None
    report["compared_with"] = previous["run_id"] if previous is not None else None
    (target / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (target / "report.html").write_text(render_html(report), encoding="utf-8")


# --- HTML -----------------------------------------------------------------------------------------


def _bars(title: str, values: Mapping[str, float], top: float = 1.0) -> str:
    """A horizontal bar chart as inline SVG (no plotting library: the report must open anywhere)."""
    if not values:
        return ""
    row, width, label = 18, 320, 190
    height = row * len(values) + 24
    parts = [
        f'<svg width="{label + width + 70}" height="{height}" role="img" aria-label="{html.escape(title)}">'
    ]
    for i, (name, value) in enumerate(values.items()):
        y = 20 + i * row
        length = 0 if top <= 0 else max(0.0, min(1.0, value / top)) * width
        parts.append(f'<text x="0" y="{y + 12}" font-size="12">{html.escape(name)}</text>')
        parts.append(f'<rect x="{label}" y="{y}" width="{length:.1f}" height="{row - 4}" fill="#4a7bd0"/>')
        parts.append(f'<text x="{label + length + 4:.1f}" y="{y + 12}" font-size="12">{value:g}</text>')
    parts.append("</svg>")
    return f"<h3>{html.escape(title)}</h3>" + "".join(parts)


def _confusion(confusion: Mapping[str, Any]) -> str:
    labels: list[str] = confusion.get("labels", [])
    matrix: list[list[int]] = confusion.get("matrix", [])
    if not labels or not matrix:
        return ""
    cell, label = 22, 130
    size = label + cell * len(labels)
    peak = max((max(r) for r in matrix), default=1) or 1
    parts = [f'<svg width="{size + 10}" height="{size + 10}" role="img" aria-label="confusion matrix">']
    for i, name in enumerate(labels):
        parts.append(f'<text x="0" y="{label + i * cell + 15}" font-size="11">{html.escape(name)}</text>')
        parts.append(
            f'<text x="{label + i * cell + 14}" y="{label - 4}" font-size="11" '
            f'transform="rotate(-60 {label + i * cell + 14} {label - 4})">{html.escape(name)}</text>'
        )
        for j, count in enumerate(matrix[i]):
            shade = 255 - int(200 * count / peak)
            colour = f"rgb({shade},{shade},255)" if i == j else f"rgb(255,{shade},{shade})"
            x, y = label + j * cell, label + i * cell
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{colour}"/>')
            if count:
                parts.append(f'<text x="{x + 3}" y="{y + 15}" font-size="10">{count}</text>')
    parts.append("</svg>")
    return "<h3>Intent confusion (rows: gold, columns: predicted)</h3>" + "".join(parts)


def _calibration(
    points: Sequence[Mapping[str, Any]],
    title: str,
    *,
    x: str = "confidence",
    y: str = "accuracy",
    x_label: str = "confidence",
    y_label: str = "accuracy",
) -> str:
    """A reliability diagram; ``x`` / ``y`` name the keys of the points, so a probability head's
    table (mean predicted probability against observed rate) is drawn the same way as a
    classifier's (confidence against accuracy). Empty bins (null values) are left out."""
    points = [p for p in points if p.get(x) is not None and p.get(y) is not None]
    if not points:
        return ""
    size, pad = 240, 30
    parts = [f'<svg width="{size + 2 * pad}" height="{size + 2 * pad}" role="img" aria-label="calibration">']
    parts.append(f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" stroke="#bbb"/>')
    parts.append(f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#888"/>')
    coords = [(pad + float(p[x]) * size, pad + size - float(p[y]) * size) for p in points]
    parts.append(
        '<polyline fill="none" stroke="#d0504a" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        + '"/>'
    )
    parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#d0504a"/>' for x, y in coords)
    parts.append(f'<text x="{pad}" y="{pad + size + 20}" font-size="11">{html.escape(x_label)} →</text>')
    parts.append(f'<text x="2" y="{pad - 8}" font-size="11">{html.escape(y_label)} ↑</text></svg>')
    return f"<h3>{html.escape(title)} (reliability diagram; diagonal = perfect)</h3>" + "".join(parts)


#: Which suites' ``calibration`` points are plotted, under which title.
CALIBRATED = {
    "intent": "Intent router calibration",
    "sizing": "Fit model calibration (top label, test split)",
}


def _like_calibration(suites: Mapping[str, Any]) -> str:
    """The ranker's like head beside the intent and fit-model diagrams, with its ECE in the title."""
    ranker = (((suites.get("recommend") or {}).get("result") or {}).get("ranker")) or {}
    table = ranker.get("like_calibration") or {}
    ece = table.get("ece")
    title = "Ranker like head calibration (test split" + (f", ECE {ece:.3f})" if ece is not None else ")")
    return _calibration(
        table.get("reliability", []),
        title,
        x="mean_predicted",
        y="observed_like_rate",
        x_label="mean P(like)",
        y_label="like rate",
    )


def _histograms(suites: Mapping[str, Any]) -> list[str]:
    """One bar chart per ``*_histogram`` list (``[{"bin", "count"}]``) a suite reports at its top level."""
    charts = []
    for name, entry in suites.items():
        for key, value in (entry.get("result") or {}).items():
            if key.endswith("_histogram") and isinstance(value, list) and value:
                counts = {str(b["bin"]): float(b["count"]) for b in value}
                title = f"{name}: {key.removesuffix('_histogram').replace('_', ' ')} (count per bin)"
                charts.append(_bars(title, counts, top=max(max(counts.values()), 1.0)))
    return charts


def _scalars(result: Mapping[str, Any]) -> str:
    rows = [
        f"<tr><td>{html.escape(path)}</td><td>{value:g}</td></tr>"
        for path, value in numbers(result)
        if path.count(".") <= 2 and "[" not in path
    ][:60]
    return "<table><tr><th>figure</th><th>value</th></tr>" + "".join(rows) + "</table>"


def _latencies(suites: Mapping[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for name, entry in suites.items():
        for path, value in numbers(entry.get("result") or {}):
            leaf = path.rsplit(".", 1)[-1]
            if "p99" in leaf and "ms" in path and "target" not in path and "[" not in path:
                found[f"{name}: {path}"] = value
    return found


def render_html(report: Mapping[str, Any]) -> str:
    suites: Mapping[str, Any] = report.get("suites", {})
    state = "complete" if report.get("complete") else "PARTIAL — the run has not finished (or died)"
    origin = report.get("provenance", {})
    commit = html.escape(str(origin.get("commit"))) + (" (dirty tree)" if origin.get("dirty") else "")
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Innovation-kun evaluation report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}.bad{color:#b00}</style>",
        f"<h1>Evaluation report {html.escape(str(report.get('run_id')))}</h1>",
        f"<p><b>{html.escape(state)}</b>. Commit {commit}.</p>",
        "<table><tr><th>suite</th><th>status</th><th>seconds</th></tr>",
    ]
    for name, entry in suites.items():
        status = entry.get("status", "?")
        css = "" if status in ("ok", "running") else " class='bad'"
        seconds = entry.get("seconds", "")
        parts.append(
            f"<tr><td>{html.escape(name)}</td><td{css}>{html.escape(status)}</td><td>{seconds}</td></tr>"
        )
    parts.append("</table>")
    intent = (suites.get("intent") or {}).get("result") or {}
    parts.append(_bars("Intent F1 per intent", intent.get("per_intent_f1", {})))
    parts.append(_confusion(intent.get("confusion", {})))
    for name, title in CALIBRATED.items():
        result = (suites.get(name) or {}).get("result") or {}
        parts.append(_calibration(result.get("calibration", []), title))
    parts.append(_like_calibration(suites))
    scenarios = (suites.get("scenarios") or {}).get("result") or {}
    per_category = {name: v["pass_1"] for name, v in scenarios.get("per_category", {}).items()}
    parts.append(_bars("Scenarios pass^1 by category", per_category))
    latencies = _latencies(suites)
    parts.append(_bars("p99 latencies (ms)", latencies, top=max(latencies.values(), default=1.0)))
    parts.extend(_histograms(suites))
    for name, entry in suites.items():
        if entry.get("result"):
            parts.append(f"<h2>{html.escape(name)}</h2>" + _scalars(entry["result"]))
    changes = report.get("diff")
    if changes is not None:
        parts.append(f"<h2>Changes against {html.escape(str(report.get('compared_with')))}</h2>")
        parts.append("<table><tr><th>figure</th><th>before</th><th>after</th><th>change</th></tr>")
        for change in changes[:300]:
            delta = change["delta"]
            parts.append(
                f"<tr><td>{html.escape(change['path'])}</td><td>{change['before']}</td><td>{change['after']}</td>"
                f"<td>{'' if delta is None else f'{delta:+.4g}'}</td></tr>"
            )
        parts.append("</table>")
    return "\n".join(parts)


def table(result: dict[str, Any]) -> str:
    lines = [f"report: {result['report']}"]
    lines += [f"  {name:16s} {status}" for name, status in result["statuses"].items()]
    if result["compared_with"]:
        lines.append(f"{result['changed_numbers']} numbers changed since {result['compared_with']}")
    return "\n".join(lines)
