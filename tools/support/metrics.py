"""Figures from the API's Prometheus collectors (``api.middleware.Metrics``) as plain numbers per route.

Quantiles are estimated from the latency histogram's buckets the way Prometheus's
``histogram_quantile`` does: linear interpolation inside the bucket that holds the rank, so an
estimate is only as fine as the bucket bounds (and a rank in the open top bucket reports that
bucket's lower bound).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

REQUESTS = "http_requests"
LATENCY = "http_request_duration_seconds"


@dataclass
class RouteFigures:
    method: str
    route: str
    by_status: dict[str, int] = field(default_factory=dict)
    latency_count: int = 0
    latency_sum_s: float = 0.0
    #: Cumulative bucket counts, ``(upper bound, requests at or under it)`` in ascending order.
    buckets: list[tuple[float, float]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.by_status.values())

    def errors(self, lowest: int) -> int:
        return sum(n for status, n in self.by_status.items() if status.isdigit() and int(status) >= lowest)

    def quantile(self, q: float) -> float | None:
        return bucket_quantile(q, self.buckets)


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The ``q`` quantile estimated from cumulative histogram buckets; None when nothing was observed."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower_bound
            if cumulative == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (cumulative - lower_count)
        lower_bound, lower_count = bound, cumulative
    return lower_bound


def route_figures(registry: CollectorRegistry) -> list[RouteFigures]:
    """One entry per (method, route) that has served a request, busiest first."""
    routes: dict[tuple[str, str], RouteFigures] = {}
    raw_buckets: dict[tuple[str, str], dict[float, float]] = defaultdict(dict)

    def entry(labels: dict[str, str]) -> RouteFigures:
        key = (labels.get("method", ""), labels.get("route", ""))
        if key not in routes:
            routes[key] = RouteFigures(method=key[0], route=key[1])
        return routes[key]

    for family in registry.collect():
        if family.name == REQUESTS:
            for sample in family.samples:
                if sample.name == f"{REQUESTS}_total":
                    figures = entry(sample.labels)
                    status = sample.labels.get("status", "")
                    figures.by_status[status] = figures.by_status.get(status, 0) + int(sample.value)
        elif family.name == LATENCY:
            for sample in family.samples:
                if sample.name == f"{LATENCY}_bucket":
                    key = (sample.labels.get("method", ""), sample.labels.get("route", ""))
                    entry(sample.labels)
                    raw_buckets[key][float(sample.labels["le"])] = sample.value
                elif sample.name == f"{LATENCY}_count":
                    entry(sample.labels).latency_count = int(sample.value)
                elif sample.name == f"{LATENCY}_sum":
                    entry(sample.labels).latency_sum_s = sample.value
    for key, buckets in raw_buckets.items():
        routes[key].buckets = sorted(buckets.items())
    return sorted(routes.values(), key=lambda r: (-r.count, r.route, r.method))
