"""The outfit-able part of the catalogue as columns in memory, to filter thousands of products per request.

A recommendation filters the whole catalogue by occasion, season, gender, stock, budget and
colour before it ranks anything. Doing that in SQL or Cypher costs tens of milliseconds a
query; numpy masks over ~40k rows cost well under one. The table is rebuilt from
``CatalogService.docs()`` whenever the catalogue's fingerprint changes (every write to the
catalogue changes it), which the service checks at most every few seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from graphs.rules import COLOURS, STYLE_FORMALITY, style_formality, wearable_seasons
from graphs.vocabulary import ItemKind, Season, Slot, article_kind, kind_slot
from rag.documents import ProductDoc

Bools = np.ndarray[Any, np.dtype[np.bool_]]
Ints = np.ndarray[Any, np.dtype[np.int64]]
Floats = np.ndarray[Any, np.dtype[np.float64]]

SEASONS: tuple[Season, ...] = tuple(Season)
SLOTS: tuple[Slot, ...] = tuple(Slot)
KINDS: tuple[ItemKind, ...] = tuple(ItemKind)
GENDERS: tuple[str, ...] = ("Men", "Women", "Unisex", "Boys", "Girls")
USAGES: tuple[str, ...] = tuple(STYLE_FORMALITY)
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)

#: Which catalogue genders a department shops in, and which genders one outfit may mix.
DEPARTMENT_GENDERS: dict[str, frozenset[str]] = {
    "women": frozenset({"Women", "Unisex"}),
    "men": frozenset({"Men", "Unisex"}),
    "unisex": frozenset({"Unisex", "Men", "Women"}),
    "girls": frozenset({"Girls"}),
    "boys": frozenset({"Boys"}),
}
GENDER_DEPARTMENT: dict[str, str] = {
    "Women": "women",
    "Men": "men",
    "Unisex": "unisex",
    "Girls": "girls",
    "Boys": "boys",
}


def _index(values: Sequence[str], value: str | None) -> int:
    try:
        return values.index(value) if value is not None else -1
    except ValueError:
        return -1


@dataclass
class OutfitTable:
    """Row ``i`` of every array describes product ``ids[i]``.

    Categorical columns hold indexes into this module's vocabularies, -1 where unknown.
    """

    ids: list[str]
    names: list[str]
    brands: list[str | None]
    article_types: list[str]
    image_urls: list[str | None]
    sizes: list[tuple[str, ...]]
    generated: Bools
    kind: Ints
    slot: Ints
    gender: Ints
    colour: Ints
    usage: Ints
    formality: Ints
    #: Bit ``i`` set when the product can be worn in ``SEASONS[i]``.
    seasons: Ints
    price: Floats
    in_stock: Bools
    fingerprint: str = ""

    def __post_init__(self) -> None:
        self.row_of: dict[str, int] = {pid: i for i, pid in enumerate(self.ids)}
        #: The distinct article types, and each row's index into them: per-category rules become
        #: a lookup in a short array instead of a dictionary lookup per row.
        self.articles: list[str] = sorted(set(self.article_types))
        index = {name: i for i, name in enumerate(self.articles)}
        self.article: Ints = np.array([index[a] for a in self.article_types], dtype=np.int64)

    def per_article(self, values: dict[str, float], default: float = 0.0) -> Floats:
        """A per-category value spread over the rows."""
        by_article = np.array([values.get(a, default) for a in self.articles], dtype=np.float64)
        out: Floats = by_article[self.article] if len(self.articles) else np.zeros(0)
        return out

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, docs: Iterable[ProductDoc], fingerprint: str = "") -> OutfitTable:
        rows: list[tuple[ProductDoc, ItemKind, Slot]] = []
        for doc in docs:
            kind = article_kind(doc.article_type)
            slot = kind_slot(kind)
            if slot is not None:
                rows.append((doc, kind, slot))
        usage = [doc.usage if doc.usage in STYLE_FORMALITY else "Casual" for doc, _, _ in rows]
        return cls(
            ids=[doc.id for doc, _, _ in rows],
            names=[doc.name for doc, _, _ in rows],
            brands=[doc.brand for doc, _, _ in rows],
            article_types=[doc.article_type or "" for doc, _, _ in rows],
            image_urls=[doc.image_url for doc, _, _ in rows],
            sizes=[tuple(doc.sizes_available) for doc, _, _ in rows],
            generated=np.array([doc.generated for doc, _, _ in rows], dtype=bool),
            kind=np.array([KINDS.index(kind) for _, kind, _ in rows], dtype=np.int64),
            slot=np.array([SLOTS.index(slot) for _, _, slot in rows], dtype=np.int64),
            gender=np.array([_index(GENDERS, doc.gender) for doc, _, _ in rows], dtype=np.int64),
            colour=np.array([_index(COLOUR_NAMES, doc.colour) for doc, _, _ in rows], dtype=np.int64),
            usage=np.array([USAGES.index(u) for u in usage], dtype=np.int64),
            formality=np.array([style_formality(u) for u in usage], dtype=np.int64),
            seasons=np.array(
                [
                    sum(1 << SEASONS.index(s) for s in wearable_seasons(doc.article_type, doc.season))
                    for doc, _, _ in rows
                ],
                dtype=np.int64,
            ),
            price=np.array([doc.price for doc, _, _ in rows], dtype=np.float64),
            in_stock=np.array([doc.in_stock for doc, _, _ in rows], dtype=bool),
            fingerprint=fingerprint,
        )

    @classmethod
    def concat(cls, first: OutfitTable, second: OutfitTable) -> OutfitTable:
        """``first``'s rows, then ``second``'s: a person's own clothes beside the catalogue."""
        values: dict[str, Any] = {}
        for column in fields(cls):
            a, b = getattr(first, column.name), getattr(second, column.name)
            if column.name == "fingerprint":
                values[column.name] = f"{first.fingerprint}+{second.fingerprint}"
            elif isinstance(a, np.ndarray):
                values[column.name] = np.concatenate([a, b])
            else:
                values[column.name] = [*a, *b]
        return cls(**values)

    def rows(self, ids: Iterable[str]) -> list[int]:
        return [self.row_of[pid] for pid in ids if pid in self.row_of]

    def colour_name(self, row: int) -> str | None:
        index = int(self.colour[row])
        return COLOUR_NAMES[index] if index >= 0 else None

    def gender_name(self, row: int) -> str | None:
        index = int(self.gender[row])
        return GENDERS[index] if index >= 0 else None

    def slot_of(self, row: int) -> Slot:
        return SLOTS[int(self.slot[row])]

    def usage_of(self, row: int) -> str:
        return USAGES[int(self.usage[row])]
