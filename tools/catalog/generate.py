"""Seeded sizes, stock and prices for products whose source has none (the shipped dataset).

The Kaggle styles file describes products but sells nothing: no sizes, no stock,
no prices. A style advisor needs all three to answer "is it in my size" and "is
it under 300", so they are generated here, deterministically: the random stream
of each product is seeded by ``f"{seed}:{product_id}"`` (``random.Random`` hashes
a string seed with SHA-512, never with the per-process ``hash()``), so every
install and every re-run shows the same numbers, and changing one product's
attributes does not shift any other product's values. Everything generated is
marked ``generated=True`` so no answer presents it as a real shop's data.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tools.catalog.schemas import ONE_SIZE, SizeSystem, size_position

LETTERS_WOMEN = ("XS", "S", "M", "L", "XL")
LETTERS_MEN = ("S", "M", "L", "XL", "XXL")
LETTERS_ALL = ("XS", "S", "M", "L", "XL", "XXL")
KIDS_AGES = ("2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-11Y", "12-13Y")

#: Bottoms sized by waist in inches; the other bottoms (track pants, shorts, leggings) use letters.
WAIST_SIZED = frozenset({"Jeans", "Trousers", "Rain Trousers"})
#: Apparel sold in one size ("free size" sarees, dupattas, stockings, socks).
ONE_SIZE_APPAREL = frozenset({"Sarees", "Dupatta", "Stockings", "Stoles", "Booties", "Salwar and Dupatta"})
#: Accessories that do come in sizes.
LETTER_ACCESSORIES = {"Belts": ("S", "M", "L", "XL"), "Gloves": ("S", "M", "L")}

#: Plausible CNY price ranges by article type (a Chinese mid-market shop's shelf).
PRICE_RANGES: dict[str, tuple[int, int]] = {
    "Tshirts": (59, 299),
    "Shirts": (99, 499),
    "Tops": (69, 399),
    "Kurtas": (129, 599),
    "Kurtis": (99, 449),
    "Tunics": (99, 399),
    "Sweatshirts": (159, 599),
    "Sweaters": (159, 799),
    "Jackets": (299, 1499),
    "Rain Jacket": (199, 699),
    "Blazers": (399, 1999),
    "Nehru Jackets": (299, 999),
    "Waistcoat": (199, 699),
    "Suits": (799, 3999),
    "Dresses": (159, 899),
    "Jumpsuit": (199, 799),
    "Jeans": (199, 899),
    "Trousers": (149, 699),
    "Track Pants": (99, 459),
    "Shorts": (79, 299),
    "Skirts": (99, 499),
    "Leggings": (49, 199),
    "Capris": (79, 299),
    "Sarees": (199, 1999),
    "Kurta Sets": (299, 1299),
    "Bra": (59, 299),
    "Briefs": (29, 129),
    "Trunk": (39, 149),
    "Boxers": (49, 159),
    "Innerwear Vests": (29, 129),
    "Socks": (19, 89),
    "Nightdress": (99, 399),
    "Night suits": (129, 499),
    "Casual Shoes": (199, 999),
    "Sports Shoes": (299, 1499),
    "Formal Shoes": (299, 1299),
    "Heels": (199, 999),
    "Flats": (129, 599),
    "Sandals": (99, 599),
    "Sports Sandals": (129, 499),
    "Flip Flops": (29, 199),
    "Watches": (199, 4999),
    "Handbags": (199, 1999),
    "Clutches": (129, 799),
    "Backpacks": (129, 899),
    "Laptop Bag": (199, 899),
    "Duffel Bag": (199, 799),
    "Wallets": (79, 499),
    "Belts": (69, 399),
    "Sunglasses": (99, 1499),
    "Caps": (49, 199),
    "Ties": (59, 299),
    "Cufflinks": (79, 399),
    "Earrings": (39, 499),
    "Necklace and Chains": (79, 999),
    "Pendant": (79, 899),
    "Ring": (59, 999),
    "Bracelet": (59, 599),
    "Bangle": (49, 499),
    "Jewellery Set": (129, 1499),
    "Scarves": (59, 299),
    "Stoles": (59, 299),
    "Mufflers": (59, 249),
    "Deodorant": (29, 99),
    "Perfume and Body Mist": (99, 899),
    "Lipstick": (49, 299),
    "Nail Polish": (19, 129),
    "Free Gifts": (9, 99),
}
#: Fallbacks by master category when an article type has no range of its own.
CATEGORY_PRICE_RANGES: dict[str, tuple[int, int]] = {
    "Apparel": (79, 499),
    "Footwear": (129, 799),
    "Accessories": (49, 499),
    "Personal Care": (29, 299),
    "Free Items": (9, 99),
    "Sporting Goods": (79, 399),
    "Home": (49, 199),
}
DEFAULT_PRICE_RANGE = (49, 499)

#: Share of SKUs generated as sold out.
SOLD_OUT_SHARE = 0.12
GENDER_WORDS = frozenset({"Men", "Women", "Unisex", "Boys", "Girls", "Kids", "Men's", "Women's"})


@dataclass(frozen=True)
class GeneratedSku:
    size: str
    size_system: SizeSystem
    position: int
    price: float
    stock: int


@dataclass(frozen=True)
class GeneratedProduct:
    skus: tuple[GeneratedSku, ...]
    #: Earlier prices of the whole product, oldest first, as (days before now, price); the SKUs'
    #: current price is the last point and applies from now on.
    history: tuple[tuple[int, float], ...]


def size_chart(
    gender: str | None, master_category: str | None, sub_category: str | None, article_type: str | None
) -> tuple[SizeSystem, tuple[str, ...]]:
    """The sizes a product of this kind comes in."""
    kids = gender in {"Boys", "Girls"}
    if master_category == "Footwear":
        if kids:
            low, high = 28, 35
        elif gender == "Women":
            low, high = 36, 41
        elif gender == "Men":
            low, high = 39, 46
        else:
            low, high = 37, 45
        return "EU", tuple(f"EU {n}" for n in range(low, high + 1))
    if master_category == "Apparel":
        if article_type in ONE_SIZE_APPAREL:
            return "one", (ONE_SIZE,)
        if kids:
            return "age", KIDS_AGES
        if sub_category == "Bottomwear" and article_type in WAIST_SIZED:
            waists = range(26, 35, 2) if gender == "Women" else range(28, 39, 2)
            return "waist", tuple(str(n) for n in waists)
        if gender == "Women":
            return "letter", LETTERS_WOMEN
        if gender == "Men":
            return "letter", LETTERS_MEN
        return "letter", LETTERS_ALL
    if master_category == "Accessories" and article_type in LETTER_ACCESSORIES:
        return "letter", LETTER_ACCESSORIES[article_type]
    return "one", (ONE_SIZE,)


def price_range(master_category: str | None, article_type: str | None) -> tuple[int, int]:
    if article_type in PRICE_RANGES:
        return PRICE_RANGES[article_type]
    return CATEGORY_PRICE_RANGES.get(master_category or "", DEFAULT_PRICE_RANGE)


def _retail(value: float, low: int) -> float:
    """Round to a shelf price ending in 9 (59, 129, 1499), never below the range's floor."""
    tens = int(value / 10) * 10
    return float(max(low, tens + 9 if value < 100 else tens - 1))


def generate(
    product_id: str,
    *,
    seed: int,
    gender: str | None,
    master_category: str | None,
    sub_category: str | None,
    article_type: str | None,
) -> GeneratedProduct:
    rng = random.Random(f"{seed}:{product_id}")  # noqa: S311 - demo data, not security
    system, sizes = size_chart(gender, master_category, sub_category, article_type)
    low, high = price_range(master_category, article_type)
    # Cheap products are more common than dear ones: skew towards the low end.
    current = _retail(low + (high - low) * rng.random() ** 1.6, low)
    skus = tuple(
        GeneratedSku(
            size=size,
            size_system=system,
            position=size_position(size),
            price=current,
            stock=0 if rng.random() < SOLD_OUT_SHARE else rng.randint(1, 40),
        )
        for size in sizes
    )
    history: list[tuple[int, float]] = []
    days = 90
    for _ in range(rng.randint(1, 3)):
        days = rng.randint(max(1, days // 3), max(1, days - 1)) if history else rng.randint(45, 89)
        # Earlier prices were usually a little higher (a later discount), sometimes lower.
        price = _retail(current * rng.uniform(0.9, 1.35), low)
        if not history or history[-1][1] != price:
            history.append((days, price))
    return GeneratedProduct(skus=skus, history=tuple(history))


class BrandGuesser:
    """Brand from a display name ("Peter England Men Party Blue Jeans" -> "Peter England").

    The styles file has no brand column; names start with the brand, then usually a
    gender word. Which leading words belong to the brand is decided by how often
    each prefix starts names across the whole file: "Peter England" starts about as
    many names as "Peter", "Turtle Check" far fewer than "Turtle".
    """

    MAX_WORDS = 4

    def __init__(self, names: Iterable[str]) -> None:
        self._counts: Counter[str] = Counter()
        for name in names:
            words = self._lead(name)
            for n in range(1, len(words) + 1):
                self._counts[" ".join(words[:n])] += 1

    @classmethod
    def _lead(cls, name: str) -> list[str]:
        words = name.split()[: cls.MAX_WORDS]
        for index, word in enumerate(words):
            if word in GENDER_WORDS:
                return words[:index]
        return words

    def guess(self, name: str) -> str | None:
        words = self._lead(name)
        if not words:
            return None
        best = words[0]
        first = self._counts[best] or 1
        for n in range(2, len(words) + 1):
            prefix = " ".join(words[:n])
            if self._counts[prefix] >= 3 and self._counts[prefix] >= 0.6 * first:
                best = prefix
            else:
                break
        return best
