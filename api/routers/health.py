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


#: Stores without which a pod can serve nothing useful: only these make it unready. The others
#: degrade one feature each (the cache: speed; the bus: events wait in the outbox; the graph:
#: personalisation; objects and vectors: photos and semantic search answer 503 on their own), and
#: taking every pod out of the load balancer for one of them would turn a degradation into an outage.
REQUIRED_STORES = frozenset({"sql"})


@router.get("/readyz", responses={503: {"description": "a store the API cannot do without is unreachable"}})
async def readyz(stores: StoresDep, recommend: RecommendDep) -> JSONResponse:
    """Every store and the knowledge graph, checked: ``ready``, ``degraded`` (200, with ``down``)
    or ``unavailable`` (503) when a store in ``REQUIRED_STORES`` does not answer."""
    checks = await run_in_threadpool(stores.check)
    checks["graph"] = await run_in_threadpool(_graph_check, recommend)
    for name, check in checks.items():
        if not check["ok"]:
            # A ping that answered False (the Kafka bus's) carries no exception to quote; an
            # operator still needs the sentence that names the store.
            check.setdefault("error", f"the {name} store does not answer")
    down = sorted(name for name, check in checks.items() if not check["ok"])
    unavailable = not REQUIRED_STORES.isdisjoint(down)
    status = "unavailable" if unavailable else "degraded" if down else "ready"
    body: dict[str, Any] = {"status": status, "checks": checks}
    if down:
        body["down"] = down
    return JSONResponse(body, 503 if unavailable else 200)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
