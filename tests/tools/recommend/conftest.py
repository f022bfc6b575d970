"""A small hand-made catalogue whose outfits are known, and a recommendation service over it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from graphs.embedded import KuzuGraphStore
from graphs.polyvore import GoesWith
from storage.cache import MemoryCache
from storage.cache.base import Namespaces
from storage.sql import Database
from tests.tools.catalog.conftest import (  # noqa: F401 - the catalog's fixtures, found by name
    accounts,
    catalog_settings,
    empty_catalog,
    user_id,
)
from tools.catalog.importer import FeedImporter
from tools.catalog.service import CatalogService
from tools.recommend.behaviour import Behaviour
from tools.recommend.service import RecommendService

#: id, name, gender, article type, colour, usage, season, price, stock per size
PRODUCTS: list[tuple[str, str, str, str, str, str, str, float, int]] = [
    ("d1", "Navy Formal Dress", "Women", "Dresses", "Navy Blue", "Formal", "Fall", 600, 5),
    ("d2", "Red Party Dress", "Women", "Dresses", "Red", "Party", "Fall", 500, 5),
    ("d3", "Black Day Dress", "Women", "Dresses", "Black", "Casual", "Summer", 300, 5),
    ("d4", "Pink Sold Out Dress", "Women", "Dresses", "Pink", "Formal", "Fall", 400, 0),
    ("t1", "White Cotton Top", "Women", "Tops", "White", "Casual", "Summer", 150, 5),
    ("t2", "Black Silk Shirt", "Women", "Shirts", "Black", "Formal", "Fall", 250, 5),
    ("t3", "Green Linen Top", "Women", "Tops", "Green", "Casual", "Summer", 120, 5),
    ("b1", "Black Tailored Trousers", "Women", "Trousers", "Black", "Formal", "Fall", 300, 5),
    ("b2", "Blue Denim Jeans", "Women", "Jeans", "Blue", "Casual", "Fall", 280, 5),
    ("b3", "Beige Midi Skirt", "Women", "Skirts", "Beige", "Casual", "Summer", 220, 5),
    ("s1", "Black Strappy Heels", "Women", "Heels", "Black", "Casual", "Fall", 400, 5),
    ("s2", "White Ballet Flats", "Women", "Flats", "White", "Casual", "Summer", 200, 5),
    ("s3", "Nude Court Heels", "Women", "Heels", "Nude", "Formal", "Fall", 450, 5),
    ("s4", "Tan Suede Loafers", "Women", "Casual Shoes", "Tan", "Casual", "Fall", 320, 5),
    ("g1", "Black Evening Clutch", "Women", "Clutches", "Black", "Casual", "Fall", 180, 5),
    ("g2", "Brown Leather Handbag", "Women", "Handbags", "Brown", "Casual", "Fall", 350, 5),
    ("o1", "Grey Wool Jacket", "Women", "Jackets", "Grey", "Casual", "Winter", 700, 5),
    ("m1", "White Oxford Shirt", "Men", "Shirts", "White", "Formal", "Fall", 260, 5),
    ("m2", "Navy Suit Trousers", "Men", "Trousers", "Navy Blue", "Formal", "Fall", 380, 5),
    ("m3", "Black Derby Shoes", "Men", "Formal Shoes", "Black", "Formal", "Fall", 520, 5),
    ("m4", "Brown Leather Belt", "Men", "Belts", "Brown", "Casual", "Fall", 90, 5),
    ("x1", "Lavender Body Lotion", "Women", "Body Lotion", "Purple", "Casual", "Fall", 80, 5),
]
GOES_WITH = [
    GoesWith("Dresses", "Heels", 1.0, 50),
    GoesWith("Dresses", "Clutches", 0.8, 30),
    GoesWith("Tops", "Jeans", 0.9, 40),
    GoesWith("Tops", "Skirts", 0.7, 20),
    GoesWith("Shirts", "Trousers", 0.9, 35),
    GoesWith("Trousers", "Formal Shoes", 0.8, 20),
]


def feed_rows() -> list[dict[str, Any]]:
    rows = []
    for pid, name, gender, article, colour, usage, season, price, stock in PRODUCTS:
        one_size = article in ("Clutches", "Handbags", "Belts", "Body Lotion")
        sizes = ["One Size"] if one_size else ["S", "M", "L"]
        if article in ("Heels", "Flats", "Formal Shoes", "Casual Shoes"):
            sizes = ["37", "38", "39", "42"]
        for size in sizes:
            rows.append(
                {
                    "id": pid,
                    "name": name,
                    "brand": "Test",
                    "gender": gender,
                    "article_type": article,
                    "colour": colour,
                    "usage": usage,
                    "season": season,
                    "size": size,
                    "price": price,
                    "stock": stock,
                }
            )
    return rows


@pytest.fixture
def outfit_catalog(
    database: Database,
    empty_catalog: CatalogService,  # noqa: F811 - the catalog fixture, requested by name
    sql_settings: Settings,
    tmp_path: Path,
) -> CatalogService:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(row) for row in feed_rows()), encoding="utf-8")
    report = FeedImporter(database, sql_settings.catalog).import_file(feed, strict=True)
    assert report.products == len(PRODUCTS), report
    return empty_catalog


@pytest.fixture
def recommender(database: Database, outfit_catalog: CatalogService) -> Iterator[RecommendService]:
    cache = MemoryCache(max_entries=10_000)
    namespaces = Namespaces.create(cache, Settings.model_fields["cache"].default.ttl)
    service = RecommendService(
        catalog=outfit_catalog,
        graph=KuzuGraphStore(None),
        behaviour=Behaviour(database, namespaces),
        namespaces=namespaces,
        goes_with=GOES_WITH,
    )
    service.graph.migrate()
    yield service
    service.close()
