"""Evaluation runs for evaluators: start ``python -m evals all``, list runs, read their reports.

Only the ``evaluator`` and ``admin`` roles may use these routes. A run takes minutes, so starting
one answers 202 with its id at once; the report (JSON, or the HTML page) grows as suites finish
and says ``complete`` when the run is done.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.deps import EvalRunsDep, EvaluatorUser
from api.evals_runs import RunInProgress
from evals.all import BENCHES, DEFAULT_SUITES

router = APIRouter(prefix="/evals", tags=["evaluation"])

RunIdPath = Annotated[str, Path(pattern=r"^\d{8}T\d{6}Z-[0-9a-f]{6}$", description="A run's id")]


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A subset of the suites; all of the default ones when empty.
    suites: list[str] = Field(default_factory=list, max_length=12)
    #: Also run the latency benches (minutes; figures mean most on a quiet machine).
    benches: bool = False

    @field_validator("suites")
    @classmethod
    def _known(cls, suites: list[str]) -> list[str]:
        known = {*DEFAULT_SUITES, *BENCHES}
        unknown = [s for s in suites if s not in known]
        if unknown:
            raise ValueError(f"unknown suites {unknown}; known: {sorted(known)}")
        return suites


class RunStarted(BaseModel):
    run_id: str
    report: str
    html: str


@router.post("/runs", status_code=status.HTTP_202_ACCEPTED)
def start_run(body: RunRequest, _user: EvaluatorUser, runs: EvalRunsDep) -> RunStarted:
    try:
        run_id = runs.start(body.suites, body.benches)
    except RunInProgress as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return RunStarted(
        run_id=run_id, report=f"/api/v1/evals/runs/{run_id}", html=f"/api/v1/evals/runs/{run_id}/html"
    )


@router.get("/runs")
def list_runs(_user: EvaluatorUser, runs: EvalRunsDep) -> list[dict[str, Any]]:
    return runs.summaries()


@router.get("/runs/{run_id}")
def get_run(run_id: RunIdPath, _user: EvaluatorUser, runs: EvalRunsDep) -> dict[str, Any]:
    report = runs.report(run_id)
    if report is None:
        if runs.running() == run_id:
            return {"run_id": run_id, "complete": False, "suites": {}}
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no evaluation run {run_id}")
    return report


@router.get("/runs/{run_id}/html", response_class=HTMLResponse)
def get_run_html(run_id: RunIdPath, _user: EvaluatorUser, runs: EvalRunsDep) -> HTMLResponse:
    page = runs.html(run_id)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report page for run {run_id} yet")
    return HTMLResponse(page)
