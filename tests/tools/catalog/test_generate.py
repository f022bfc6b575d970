"""Generated availability: deterministic, plausible, and independent of the process's hash seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from tools.catalog.connectors import ShippedDatasetSource
from tools.catalog.generate import (
    PRICE_RANGES,
    SOLD_OUT_SHARE,
    BrandGuesser,
    generate,
    price_range,
    size_chart,
)

CATALOG_DIR = REPO_ROOT / "data" / "catalog"


def _tee(product_id: str, seed: int = 1) -> object:
    return generate(
        product_id,
        seed=seed,
        gender="Men",
        master_category="Apparel",
        sub_category="Topwear",
        article_type="Tshirts",
    )


def test_same_seed_and_id_give_the_same_product() -> None:
    assert _tee("1164") == _tee("1164")
    assert any(_tee(str(i)) != _tee(str(i), seed=2) for i in range(20))


def test_values_do_not_depend_on_pythons_hash_seed() -> None:
    code = (
        "import json;from tools.catalog.generate import generate;"
        "g=generate('1164',seed=7,gender='Women',master_category='Footwear',"
        "sub_category='Shoes',article_type='Heels');"
        "print(json.dumps([[s.size,s.price,s.stock] for s in g.skus]+[list(h) for h in g.history]))"
    )
    here = generate(
        "1164", seed=7, gender="Women", master_category="Footwear", sub_category="Shoes", article_type="Heels"
    )
    expected = [[s.size, s.price, s.stock] for s in here.skus] + [list(h) for h in here.history]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == expected
    assert expected[0][0] == "EU 36"


@pytest.mark.parametrize(
    ("gender", "master", "sub", "article", "system", "first", "last"),
    [
        ("Women", "Footwear", "Shoes", "Heels", "EU", "EU 36", "EU 41"),
        ("Men", "Footwear", "Shoes", "Sports Shoes", "EU", "EU 39", "EU 46"),
        ("Men", "Apparel", "Topwear", "Tshirts", "letter", "S", "XXL"),
        ("Women", "Apparel", "Dress", "Dresses", "letter", "XS", "XL"),
        ("Men", "Apparel", "Bottomwear", "Jeans", "waist", "28", "38"),
        ("Men", "Apparel", "Bottomwear", "Track Pants", "letter", "S", "XXL"),
        ("Boys", "Apparel", "Topwear", "Tshirts", "age", "2-3Y", "12-13Y"),
        ("Women", "Accessories", "Watches", "Watches", "one", "One Size", "One Size"),
        ("Unisex", "Accessories", "Bags", "Backpacks", "one", "One Size", "One Size"),
        ("Women", "Personal Care", "Lips", "Lipstick", "one", "One Size", "One Size"),
    ],
)
def test_size_charts(
    gender: str, master: str, sub: str, article: str, system: str, first: str, last: str
) -> None:
    got_system, sizes = size_chart(gender, master, sub, article)
    assert got_system == system
    assert (sizes[0], sizes[-1]) == (first, last)


def test_prices_are_plausible_shelf_prices() -> None:
    for article in ("Tshirts", "Dresses", "Jackets", "Watches", "Heels"):
        low, high = PRICE_RANGES[article]
        for i in range(100):
            product = generate(
                f"p{i}",
                seed=3,
                gender="Women",
                master_category="Apparel",
                sub_category=None,
                article_type=article,
            )
            prices = {s.price for s in product.skus}
            assert len(prices) == 1
            price = prices.pop()
            assert low <= price <= high
            assert str(int(price)).endswith("9")
            assert all(days > 0 and past > 0 for days, past in product.history)
            assert [d for d, _ in product.history] == sorted((d for d, _ in product.history), reverse=True)
    assert price_range("Home", "Cushion Covers") == (49, 199)


def test_some_sizes_are_sold_out() -> None:
    skus = [
        sku
        for i in range(2000)
        for sku in generate(
            str(i),
            seed=5,
            gender="Men",
            master_category="Apparel",
            sub_category="Topwear",
            article_type="Shirts",
        ).skus
    ]
    sold_out = sum(1 for s in skus if s.stock == 0) / len(skus)
    assert abs(sold_out - SOLD_OUT_SHARE) < 0.02


def test_brands_are_guessed_from_name_prefixes() -> None:
    names = (
        ["Peter England Men Blue Shirt"] * 5
        + ["Turtle Men Black Shirt"] * 5
        + ["Turtle Check Men Navy Shirt"]
    )
    guesser = BrandGuesser([*names, "Puma Big Cat Backpack Black"])
    assert guesser.guess("Peter England Men Party Blue Jeans") == "Peter England"
    assert guesser.guess("Turtle Check Men Navy Blue Shirt") == "Turtle"
    assert guesser.guess("Puma Big Cat Backpack Black") == "Puma"
    assert guesser.guess("Men Shirt") is None


def test_shipped_source_marks_everything_generated(tmp_path: Path) -> None:
    source = ShippedDatasetSource(CATALOG_DIR, seed=11, limit=30)
    batches = list(source.products(batch=50))
    rows = [r for batch in batches for r in batch]
    assert len({r.id for r in rows}) == 30  # type: ignore[union-attr]
    assert all(getattr(r, "generated", False) for r in rows)
    first = next(source.iter_products())
    assert first.attributes["brand"]


def test_a_shipped_product_knows_its_size_count_before_generating() -> None:
    source = ShippedDatasetSource(CATALOG_DIR, seed=11, limit=50)
    for item in source.iter_products():
        assert item.size_count == len(item.generated.skus)


def test_generated_sizes_are_ordered_like_sizes_a_feed_adds() -> None:
    from tools.catalog.schemas import size_position

    source = ShippedDatasetSource(CATALOG_DIR, seed=11, limit=400)
    for item in source.iter_products():
        positions = [sku.position for sku in item.generated.skus]
        assert positions == sorted(positions), item.attributes["id"]
        assert len(set(positions)) == len(positions)
    # a feed adding XS to a letter-sized shirt, or EU 38 to a shoe, lands before the existing sizes
    assert size_position("XS") < size_position("S") < size_position("M")
    assert size_position("EU 38") < size_position("EU 39")
