"""``python -m evals bench-recommend``: outfit recommendation latency, cold (cache miss) and warm (hit).

The embedded stack with the whole shipped catalogue, the trained ranker if there is one, and a
person with a profile (so sizes are checked). Requests vary occasion, season, budget and colours;
each is asked once cold (a full computation: eligible slice, candidates, ranking, composition,
size checks, log) and then again warm (served from the cache, still logged). A third pass records
a like before a request (of a piece in the first outfit's category, in another colour, as someone
browsing would), which invalidates the cache: its latency is "a like changes the next
recommendation within" this many milliseconds, and the count of lists that changed says how often
one like is enough to change what is shown.

Targets (issue 6): p99 ≤ 50 ms warm, ≤ 150 ms cold, on 2 cores.
"""

from __future__ import annotations

import itertools
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.measure import machine, percentile
from evals.settings import embedded_settings
from graphs.vocabulary import Occasion, Season
from storage.stores import build_stores
from tools.catalog.runtime import open_catalog
from tools.profile.schemas import ProfileUpdate
from tools.profile.service import AccountService, ProfileService
from tools.recommend.behaviour import InteractionKind
from tools.recommend.runtime import open_recommender
from tools.recommend.schemas import OutfitRequest
from tools.recommend.table import OutfitTable
from tools.sizing.runtime import open_sizing

WARM_P99_MS = 50.0
COLD_P99_MS = 150.0


def requests(count: int) -> list[OutfitRequest]:
    """``count`` distinct requests cycling through occasions, seasons, budgets and colour wishes."""
    budgets: list[float | None] = [None, 1500.0, 3000.0]
    colours: list[list[str]] = [[], ["black"], ["navy", "white"]]
    combos = itertools.cycle(itertools.product(Occasion, Season, budgets, colours))
    out = []
    for number, (occasion, season, budget, wanted) in enumerate(itertools.islice(combos, count)):
        out.append(
            OutfitRequest(
                occasion=occasion,
                season=season,
                budget_max=budget,
                colours=wanted,
                department="women" if number % 2 == 0 else "men",
                count=3,
            )
        )
    return out


def _ms(seconds: list[float]) -> dict[str, float | None]:
    values = [s * 1000 for s in seconds]
    return {
        "p50_ms": percentile(values, 50),
        "p99_ms": percentile(values, 99),
        "max_ms": round(max(values), 2) if values else None,
    }


def run(*, requests_n: int = 200, warmup: int = 10, limit_products: int | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ik-bench-recommend-") as folder:
        settings = embedded_settings(Path(folder), load_catalog=True)
        if limit_products is not None:
            settings.catalog.limit = limit_products
        stores = build_stores(settings)
        try:
            catalog = open_catalog(settings, stores)
            accounts, profiles = AccountService(stores.db), ProfileService(stores.db)
            user = accounts.create_user(email="bench@example.com", password=secrets.token_urlsafe(16))
            profiles.update(
                user.id,
                ProfileUpdate.model_validate(
                    {
                        "measurements": {"height": 165, "weight": 56},
                        "department": "women",
                        "body_shape": "pear",
                    }
                ),
            )
            service = open_recommender(settings, stores, catalog, profiles, open_sizing(settings, stores.db))
            started = time.perf_counter()
            table = service.refresh()
            build_s = time.perf_counter() - started
            batch = requests(warmup + requests_n)
            for request in batch[:warmup]:
                service.recommend_outfits(user.id, request)
            measured = batch[warmup:]
            cold: list[float] = []
            warm: list[float] = []
            outfits: list[int] = []
            for request in measured:
                started = time.perf_counter()
                result = service.recommend_outfits(user.id, request)
                cold.append(time.perf_counter() - started)
                assert not result.cached
                outfits.append(len(result.outfits))
            for request in measured:
                started = time.perf_counter()
                result = service.recommend_outfits(user.id, request)
                warm.append(time.perf_counter() - started)
                assert result.cached
            liked: list[float] = []
            changed = 0
            for request in measured[: max(1, len(measured) // 4)]:
                before = service.recommend_outfits(user.id, request)
                target = _alternative(before, table)
                if target is None:
                    continue
                started = time.perf_counter()
                service.record(user.id, target, InteractionKind.LIKE)
                after = service.recommend_outfits(user.id, request)
                liked.append(time.perf_counter() - started)
                changed += _ids(after) != _ids(before)
            service.close()
        finally:
            stores.close()
    cold_ms, warm_ms = _ms(cold), _ms(warm)
    return {
        "suite": "bench-recommend",
        "machine": machine(),
        "products": len(table),
        "ranker": service.ranker_version,
        "build_seconds": round(build_s, 2),
        "requests": len(measured),
        "mean_outfits": round(sum(outfits) / len(outfits), 2),
        "full_lists": sum(1 for n in outfits if n == 3),
        "cold": cold_ms,
        "warm": warm_ms,
        "like_then_recommend": {**_ms(liked), "lists_changed": changed, "likes": len(liked)},
        "targets": {"warm_p99_ms": WARM_P99_MS, "cold_p99_ms": COLD_P99_MS},
        "meets": {
            "warm": (warm_ms["p99_ms"] or 0.0) <= WARM_P99_MS,
            "cold": (cold_ms["p99_ms"] or 0.0) <= COLD_P99_MS,
        },
    }


def _ids(result: Any) -> list[list[str]]:
    return [[item.product_id for item in outfit.items] for outfit in result.outfits]


def _alternative(result: Any, table: OutfitTable) -> str | None:
    """What a person browsing the list would like next: an in-stock piece of the first outfit's
    anchor category and department, in another colour, that no outfit shows."""
    if not result.outfits:
        return None
    anchor = table.row_of[result.outfits[0].items[0].product_id]
    shown = {pid for outfit in _ids(result) for pid in outfit}
    for row in range(len(table)):
        if (
            table.article[row] == table.article[anchor]
            and table.gender[row] == table.gender[anchor]
            and table.colour[row] != table.colour[anchor]
            and table.in_stock[row]
            and table.ids[row] not in shown
        ):
            return table.ids[row]
    return None


def table(result: dict[str, Any]) -> str:
    lines = [
        f"products {result['products']}, ranker {result['ranker']}, "
        f"graph+table build {result['build_seconds']} s",
        f"requests {result['requests']}: mean outfits {result['mean_outfits']}, "
        f"full lists {result['full_lists']}",
    ]
    for name in ("cold", "warm", "like_then_recommend"):
        row = result[name]
        lines.append(f"{name:22s} p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms  max {row['max_ms']} ms")
    lines.append(
        f"lists changed by a like: {result['like_then_recommend']['lists_changed']}"
        f"/{result['like_then_recommend']['likes']}"
    )
    return "\n".join(lines)
