"""The admin view's figures: traffic per route from the app's Prometheus collectors, live
conversations, accounts, catalogue and job queues. ``/metrics`` keeps the raw series for scraping;
this is the same data summed up for a person to read."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import AdminUser, ChatDep, StoresDep
from api.middleware import Metrics
from storage.sql.types import utcnow
from tools.support import queries
from tools.support.metrics import route_figures

router = APIRouter(prefix="/admin", tags=["admin"])


class RouteStats(BaseModel):
    method: str = Field(description="HTTP method.")
    route: str = Field(description="The route's path template ('unmatched' for paths no route serves).")
    requests: int = Field(description="Requests answered since the process started.")
    by_status: dict[str, int] = Field(description="Requests per HTTP status code.")
    client_errors: int = Field(description="Answers with a 4xx status.")
    server_errors: int = Field(description="Answers with a 5xx status.")
    error_rate: float = Field(description="Share of requests answered with a 5xx status (0 to 1).")
    p50_s: float | None = Field(
        description="Median latency in seconds, estimated from the histogram buckets (null: none timed)."
    )
    p95_s: float | None = Field(description="95th percentile latency in seconds, estimated the same way.")
    mean_s: float | None = Field(description="Mean latency in seconds (exact: sum / count).")


class SessionStats(BaseModel):
    live: int = Field(description="Conversations active within the session lifetime and not expired.")
    with_support: int = Field(description="Live conversations handed to support (asked for or taken over).")
    waiting_for_support: int = Field(description="Handed to support but no staff member has taken them yet.")
    taken_over: int = Field(description="Handed to support and taken by a staff member.")


class RoleCount(BaseModel):
    role: str
    active: int = Field(description="Accounts that can sign in.")
    disabled: int = Field(description="Accounts switched off by an admin.")


class AdminMetrics(BaseModel):
    generated_at: datetime = Field(description="When these figures were read (UTC).")
    requests_total: int = Field(description="All HTTP requests answered since the process started.")
    server_errors_total: int = Field(description="All 5xx answers since the process started.")
    routes: list[RouteStats] = Field(description="One row per method and route, busiest first.")
    sessions: SessionStats
    accounts: list[RoleCount] = Field(description="Accounts per role.")
    products: int = Field(description="Products in the catalogue.")
    jobs: dict[str, dict[str, int]] = Field(
        description="Background jobs per kind ('tryon', 'image') and status, over all time."
    )
    support_notes: int = Field(description="Internal notes support has written on conversations.")


@router.get("/metrics")
def read_metrics(request: Request, admin: AdminUser, chat: ChatDep, stores: StoresDep) -> AdminMetrics:
    """The figures of this API process (each pod counts its own requests; the database ones are global)."""
    metrics: Metrics = request.app.state.metrics
    routes = []
    for figures in route_figures(metrics.registry):
        count = figures.count
        server_errors = figures.errors(500)
        routes.append(
            RouteStats(
                method=figures.method,
                route=figures.route,
                requests=count,
                by_status=dict(sorted(figures.by_status.items())),
                client_errors=figures.errors(400) - server_errors,
                server_errors=server_errors,
                error_rate=server_errors / count if count else 0.0,
                p50_s=figures.quantile(0.5),
                p95_s=figures.quantile(0.95),
                mean_s=figures.latency_sum_s / figures.latency_count if figures.latency_count else None,
            )
        )
    live = chat.sessions.live_counts()
    return AdminMetrics(
        generated_at=utcnow(),
        requests_total=sum(r.requests for r in routes),
        server_errors_total=sum(r.server_errors for r in routes),
        routes=routes,
        sessions=SessionStats(
            live=live.live,
            with_support=live.with_support,
            waiting_for_support=live.waiting_for_support,
            taken_over=live.taken_over,
        ),
        accounts=[
            RoleCount(role=role, **counts)
            for role, counts in sorted(queries.accounts_per_role(stores.db).items())
        ],
        products=queries.product_count(stores.db),
        jobs=queries.jobs_by_status(stores.db),
        support_notes=queries.note_count(stores.db),
    )
