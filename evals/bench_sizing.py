"""``python -m evals bench-sizing``: how long the fit model takes to answer for one product.

A size advice asks one ``predict_proba`` call per product with a query for each of its sizes.
The bench builds such calls from RentTheRunway validation records (the record's person and
product in 5 to 8 sizes), then times each call
on one thread: target p99 ≤ 5 ms per product. It uses the newest model in
``settings.sizing.model_dir`` and trains one in memory when there is none.

It also times the whole advice (``SizingService.recommend``: chart lookup, body estimate, the
person's and product's feedback read from SQLite, the model) on the embedded stack with the
first 2,000 catalogue products and some feedback recorded, for context: the target is the model's.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from core.training import TrainingPaths
from evals.measure import machine, percentile
from evals.settings import embedded_settings
from tools.sizing import rtr
from tools.sizing.model import FitModel, load_model
from tools.sizing.schemas import FitQuery
from tools.sizing.train import train_model

P99_TARGET_MS = 5.0
SIZES_PER_PRODUCT = (5, 8)


def product_calls(prepared: rtr.Prepared, count: int) -> list[list[FitQuery]]:
    """``count`` products' worth of queries: a validation record's person and product, asked about
    5-8 sizes one RTR size step (4 codes) apart around the size they rented."""
    rng = np.random.default_rng(0)
    step = 4 / prepared.coefficients.codes_per_cm  # one main RTR size step in cm
    calls = []
    for query in prepared.queries(prepared.split.validation[:count]):
        k = int(rng.integers(SIZES_PER_PRODUCT[0], SIZES_PER_PRODUCT[1] + 1))
        base = query.offset_cm - step * (k // 2)
        calls.append([replace(query, offset_cm=base + step * i) for i in range(k)])
    return calls


def run(*, products: int = 1000, warmup: int = 50, model_dir: Path | None = None) -> dict[str, Any]:
    paths = TrainingPaths()
    model_dir = model_dir or paths.sizing.model_dir
    model = load_model(model_dir, paths.sizing.model_version)
    prepared = rtr.prepare(rtr.load(rtr.default_path(paths.research_data_dir)))
    source = "loaded"
    if model is None:
        model = train_model(prepared)
        source = "trained"
    calls = product_calls(prepared, products + warmup)
    latencies = []
    with threadpool_limits(limits=1):
        for call in calls[:warmup]:
            model.predict_proba(call)
        for call in calls[warmup:]:
            started = time.perf_counter()
            model.predict_proba(call)
            latencies.append((time.perf_counter() - started) * 1000)
    p99 = percentile(latencies, 99)
    advice = _advice_latencies(model, products=min(products, 500))
    return {
        "suite": "bench-sizing",
        "model": model.version,
        "source": source,
        "trees": len(model.forest.roots),
        "products": len(latencies),
        "queries_per_product": list(SIZES_PER_PRODUCT),
        "warmup": warmup,
        "ms_p50": percentile(latencies, 50),
        "ms_p95": percentile(latencies, 95),
        "ms_p99": p99,
        "ms_max": round(max(latencies), 2),
        "target_ms_p99": P99_TARGET_MS,
        "pass": p99 is not None and p99 <= P99_TARGET_MS,
        "advice_products": len(advice),
        "advice_ms_p50": percentile(advice, 50),
        "advice_ms_p99": percentile(advice, 99),
        "machine": machine(),
    }


def _advice_latencies(model: FitModel, *, products: int) -> list[float]:
    """Milliseconds per ``SizingService.recommend`` on adult apparel of the shipped catalogue."""
    from storage.stores import build_stores
    from tools.catalog.service import CatalogService
    from tools.profile.schemas import Department
    from tools.profile.service import AccountService
    from tools.sizing.chartbook import ChartBook
    from tools.sizing.service import Body, SizingError, SizingService

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="ik-bench-sizing-") as folder:
        settings = embedded_settings(Path(folder))
        stores = build_stores(settings)
        try:
            catalog = CatalogService(stores.db, settings.catalog)
            catalog.load_shipped(settings.catalog_dir, limit=2000)
            accounts = AccountService(stores.db)
            user = accounts.create_user(email="bench@example.com", password=secrets.token_urlsafe(16))
            service = SizingService(stores.db, ChartBook(stores.db), model)
            ids = [doc.id for batch in catalog.docs() for doc in batch if doc.gender in ("Men", "Women")]
            details = [d for d in catalog.get_products(ids) if d.product.master_category == "Apparel"]
            timings: list[float] = []
            for i, detail in enumerate(details[: products + 20]):
                women = detail.product.gender == "Women"
                height = float(rng.normal(163 if women else 176, 6))
                body = Body(
                    values={"height": height, "weight": float(rng.normal(60 if women else 78, 8))},
                    department=Department.women if women else Department.men,
                )
                try:
                    started = time.perf_counter()
                    advice = service.recommend(user.id, detail, body)
                    elapsed = (time.perf_counter() - started) * 1000
                except SizingError:
                    continue  # one-size and chart-less products are refused, not timed
                if i >= 20:  # the first calls warm caches and connections
                    timings.append(elapsed)
                if i % 5 == 0:
                    service.record_feedback(user.id, detail, advice.recommended.size, "small", body)
            return timings
        finally:
            stores.close()


def table(result: dict[str, Any]) -> str:
    verdict = "PASS" if result["pass"] else "FAIL"
    return "\n".join(
        [
            f"bench-sizing: {result['model']} ({result['trees']} trees), {result['products']} products "
            f"of {result['queries_per_product'][0]}-{result['queries_per_product'][1]} sizes, one thread, "
            f"{result['machine']['cpu_count']} CPUs",
            f"predict_proba per product: p50 {result['ms_p50']:.2f} ms, p95 {result['ms_p95']:.2f} ms, "
            f"p99 {result['ms_p99']:.2f} ms, max {result['ms_max']:.2f} ms "
            f"(target p99 ≤ {result['target_ms_p99']:g} ms): {verdict}",
            f"whole advice (SizingService.recommend, SQLite) over {result['advice_products']} products: "
            f"p50 {result['advice_ms_p50']:.2f} ms, p99 {result['advice_ms_p99']:.2f} ms",
        ]
    )
