"""Liveness, readiness and Prometheus metrics.

These three stay public (no token) because orchestrators and scrapers call them;
they reveal no personal data. Expose them only on the internal network.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.deps import StoresDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up; says nothing about its stores."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a store is unreachable"}})
async def readyz(stores: StoresDep) -> JSONResponse:
    """Every store answers; 503 with the failing ones otherwise."""
    checks = await run_in_threadpool(stores.check)
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
