"""Liveness, readiness and Prometheus metrics.

These three stay public (no token) because orchestrators and scrapers call them;
they reveal no personal data. Expose them only on the internal network.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.deps import RecommendDep, StoresDep
from tools.recommend.service import RecommendService

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up; says nothing about its stores."""
    return {"status": "ok"}


def _graph_check(recommend: RecommendService) -> dict[str, Any]:
    started = time.perf_counter()
    ok = recommend.graph.ping()  # never raises
    check: dict[str, Any] = {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if not ok:
        check["error"] = f"the {recommend.graph.backend} knowledge graph does not answer"
    return check


@router.get("/readyz", responses={503: {"description": "a store is unreachable"}})
async def readyz(stores: StoresDep, recommend: RecommendDep) -> JSONResponse:
    """Every store (and the knowledge graph) answers; 503 with the failing ones otherwise."""
    checks = await run_in_threadpool(stores.check)
    checks["graph"] = await run_in_threadpool(_graph_check, recommend)
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
