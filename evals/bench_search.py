"""``python -m evals bench-search``: how long product search takes over the whole catalog.

Builds the same embedded stack as ``python -m evals search`` (temporary folder, shipped
catalog, full-text and vector indexes), warms every path up, then times a fixed list of
queries (the texts of ``evals/data/search/queries.jsonl``, both splits, in file order,
repeated when more are asked for):

* ``fulltext``: full-text search with filters (in stock, plus the query's gender where it
  names one) and facet counts, top 10 — target p99 ≤ 30 ms;
* ``vector``: the semantic index's top 10 for a query vector encoded beforehand, i.e. the
  nearest-neighbour search alone — target p99 ≤ 10 ms;
* ``vector_with_encoding``: the same plus encoding the query's English reading with MiniLM
  on every call (no query-vector cache), the cost of a query never seen before (no target);
* ``hybrid``: ``SearchService.search(mode="hybrid")`` with the same filters and facets, top 10
  — target p99 ≤ 30 ms. The service keeps the last 512 query vectors, so a text repeated in
  the measured list (more ``--queries`` than the query set has texts) skips encoding.

Warm-up queries are made-up texts outside the measured list, so they warm code paths and
caches of the engines without pre-encoding any measured query.

Figures depend on the machine; its CPU count is reported with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evals.measure import machine, percentile
from evals.search import QUERIES_PATH, load_queries, search_stack
from rag.documents import SearchFilters
from rag.query import parse_query

if TYPE_CHECKING:
    from rag.search import SearchService

Matrix = np.ndarray[Any, np.dtype[np.float32]]

SEARCH_P99_TARGET_MS = 30.0
VECTOR_P99_TARGET_MS = 10.0
TOP_K = 10


def bench_queries(count: int) -> list[tuple[str, list[str]]]:
    """``count`` (text, genders) pairs: the query set's texts in file order, repeated as needed."""
    queries = load_queries(QUERIES_PATH)
    pairs = [(q.text, list(q.relevance.must.get("gender", ()))) for q in queries]
    return [pairs[i % len(pairs)] for i in range(count)]


def _filters(genders: list[str]) -> SearchFilters:
    return SearchFilters(in_stock=True, gender=genders)


def _time(calls: Sequence[Callable[[], object]]) -> list[float]:
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _summary(latencies: list[float], target: float | None) -> dict[str, Any]:
    p99 = percentile(latencies, 99)
    return {
        "calls": len(latencies),
        "ms_p50": percentile(latencies, 50),
        "ms_p99": p99,
        "ms_max": round(max(latencies), 2) if latencies else None,
        "target_ms_p99": target,
        "pass": None if target is None or p99 is None else p99 <= target,
    }


def vector_top_k(search: SearchService, vector: Matrix, k: int = TOP_K) -> object:
    """The vector index's nearest ``k`` products for an already encoded query."""
    if search.semantic is None:  # pragma: no cover - only called when semantic search is ready
        raise RuntimeError("semantic search is off")
    return search.semantic.search_vector(vector, None, top_k=k)


def run(*, queries: int = 200, limit_products: int | None = None, warmup: int = 20) -> dict[str, Any]:
    work = bench_queries(queries)
    # Warm-up texts the measured list does not contain, so no measured query hits a cache it filled.
    any_gender: list[str] = []
    words = ["shirt", "鞋", "bag", "watch"]
    warm = [(f"warm up {words[i % len(words)]} {i}", any_gender) for i in range(warmup)]
    with search_stack(limit=limit_products, semantic=True) as stack:
        search = stack.search
        semantic = search.semantic
        ready = semantic is not None and search.semantic_ready

        def fulltext(text: str, genders: list[str]) -> Callable[[], object]:
            return lambda: search.search(text, _filters(genders), mode="fulltext", limit=TOP_K, facets=True)

        def hybrid(text: str, genders: list[str]) -> Callable[[], object]:
            return lambda: search.search(text, _filters(genders), mode="hybrid", limit=TOP_K, facets=True)

        results: dict[str, Any] = {}
        _time([fulltext(t, g) for t, g in warm])
        results["fulltext"] = _summary(_time([fulltext(t, g) for t, g in work]), SEARCH_P99_TARGET_MS)
        if ready and semantic is not None:
            encoder = semantic.encoder
            # What the vector engine is asked: the query's English reading ("白色连衣裙" -> "white dress").
            readings = {t: parse_query(t).semantic_text or t for t, _ in work + warm}
            vectors = {t: encoder.encode([r])[0] for t, r in readings.items()}

            def nearest(text: str) -> Callable[[], object]:
                return lambda: vector_top_k(search, vectors[text])

            def encode_then_nearest(text: str) -> Callable[[], object]:
                return lambda: vector_top_k(search, encoder.encode([readings[text]])[0])

            _time([nearest(t) for t, _ in warm])
            results["vector"] = _summary(_time([nearest(t) for t, _ in work]), VECTOR_P99_TARGET_MS)
            _time([encode_then_nearest(t) for t, _ in warm])
            results["vector_with_encoding"] = _summary(_time([encode_then_nearest(t) for t, _ in work]), None)
            _time([hybrid(t, g) for t, g in warm])
            results["hybrid"] = _summary(_time([hybrid(t, g) for t, g in work]), SEARCH_P99_TARGET_MS)
        return {
            "suite": "bench-search",
            "products": len(stack.docs),
            "queries": len(work),
            "unique_queries": len({t for t, _ in work}),
            "warmup": len(warm),
            "semantic_ready": ready,
            "index_seconds": round(stack.index_seconds, 1),
            "machine": machine(),
            "results": results,
            "targets": {"search_ms_p99": SEARCH_P99_TARGET_MS, "vector_top10_ms_p99": VECTOR_P99_TARGET_MS},
            "pass": all(r["pass"] is not False for r in results.values()),
        }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"bench-search: {result['products']} products, {result['queries']} queries "
        f"(after {result['warmup']} warm-up), {result['machine']['cpu_count']} CPUs",
        f"{'path':22s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {'target':>8s}  verdict",
    ]
    for name, r in result["results"].items():
        target = "-" if r["target_ms_p99"] is None else f"≤{r['target_ms_p99']:g}"
        verdict = "-" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL")
        lines.append(
            f"{name:22s} {r['ms_p50']:8.2f} {r['ms_p99']:8.2f} {r['ms_max']:8.2f} {target:>8s}  {verdict}"
        )
    if not result["semantic_ready"]:
        lines.append("vector and hybrid not measured: the semantic index is not ready")
    return "\n".join(lines)
