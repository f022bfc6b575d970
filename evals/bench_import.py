"""``python -m evals bench-import``: feed importer throughput, products per second.

A generated CSV feed (``--products`` products, three sizes each, seeded so every run
imports the same rows) goes into a fresh database three times:

* ``first``: every product and SKU is new (inserts, price history, events);
* ``unchanged``: the same feed again (the importer must notice nothing changed);
* ``repriced``: every price changed (history rows and ``price.changed`` events per SKU).

The target is 5,000 products/s. SQLite always runs; PostgreSQL runs when ``--postgres-url``
names a server (its ``public`` schema is dropped and re-created, so give it a scratch database).
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.settings import embedded_settings
from storage.sql.database import reset_postgres_schema

TARGET_PRODUCTS_PER_S = 5_000.0
SIZES = ("S", "M", "L")
_COLUMNS = (
    "id", "name", "brand", "gender", "master_category", "sub_category", "article_type", "colour",
    "season", "year", "usage", "size", "price", "stock",
)  # fmt: skip
_KINDS = (
    ("Apparel", "Topwear", "Tshirts"),
    ("Apparel", "Topwear", "Shirts"),
    ("Apparel", "Bottomwear", "Trousers"),
    ("Apparel", "Dress", "Dresses"),
)


def write_feed(path: Path, products: int, *, seed: int = 7, price_factor: float = 1.0) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_COLUMNS)
        for n in range(products):
            master, sub, article = _KINDS[n % len(_KINDS)]
            colour = ("Black", "White", "Navy Blue", "Red")[n % 4]
            base = rng.randint(59, 899)
            for size in SIZES:
                writer.writerow(
                    (
                        f"bench-{n}", f"Benchmark {colour} {article} {n}", "Benchmark",
                        ("Men", "Women")[n % 2], master, sub, article, colour, "Summer", 2024, "Casual", size,
                        round(base * price_factor, 2), rng.randint(0, 40),
                    )
                )  # fmt: skip


def _one_backend(
    folder: Path, feeds: dict[str, Path], products: int, postgres_url: str | None
) -> dict[str, Any]:
    from storage.stores import build_stores
    from tools.catalog.importer import FeedImporter

    settings = embedded_settings(folder / ("pg" if postgres_url else "sqlite"))
    if postgres_url:
        reset_postgres_schema(postgres_url)
        settings = settings.model_copy(
            update={"sql": settings.sql.model_copy(update={"backend": "postgresql", "url": postgres_url})}
        )
    stores = build_stores(settings)
    try:
        importer = FeedImporter(stores.db, settings.catalog)
        runs: dict[str, Any] = {}
        for name, feed in feeds.items():
            started = time.perf_counter()
            report = importer.import_file(feed, source="bench")
            seconds = time.perf_counter() - started
            rate = products / seconds
            runs[name] = {
                "seconds": round(seconds, 2),
                "products_per_s": round(rate),
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": len(report.rejected),
                "pass": rate >= TARGET_PRODUCTS_PER_S,
            }
        return runs
    finally:
        stores.close()


def run(*, products: int = 20_000, postgres_url: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "suite": "bench-import",
        "products": products,
        "rows": products * len(SIZES),
        "target_products_per_s": TARGET_PRODUCTS_PER_S,
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="ik-bench-import-") as tmp:
        folder = Path(tmp)
        feeds = {
            "first": folder / "feed.csv",
            "unchanged": folder / "feed.csv",
            "repriced": folder / "repriced.csv",
        }
        write_feed(feeds["first"], products)
        write_feed(feeds["repriced"], products, price_factor=0.9)
        result["backends"]["sqlite"] = _one_backend(folder, feeds, products, None)
        if postgres_url:
            result["backends"]["postgresql"] = _one_backend(folder, feeds, products, postgres_url)
    result["pass"] = all(run["pass"] for runs in result["backends"].values() for run in runs.values())
    return result


def table(result: dict[str, Any]) -> str:
    lines = [
        f"bench-import: {result['products']} products ({result['rows']} feed rows), "
        f"target ≥ {result['target_products_per_s']:.0f} products/s",
        f"{'backend':12} {'run':10} {'seconds':>8} {'products/s':>11}  verdict",
    ]
    for backend, runs in result["backends"].items():
        for name, run in runs.items():
            verdict = "PASS" if run["pass"] else "FAIL"
            lines.append(
                f"{backend:12} {name:10} {run['seconds']:8.2f} {run['products_per_s']:11d}  {verdict}"
            )
    return "\n".join(lines)
