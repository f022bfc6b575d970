"""What the search indexes hold and answer: the contract between the catalog and retrieval.

The catalog (``tools.catalog``) owns products, SKUs, stock and prices in SQL; it
hands the search side a denormalised ``ProductDoc`` per product and re-sends it
when price or stock change. Full-text, vector and hybrid search all answer with
ids and scores over the same filters, so each engine can be swapped (SQLite FTS5
or Elasticsearch, Milvus Lite or a Milvus server) without the callers noticing.

Prices are in ``CATALOG_CURRENCY``; a query's "$60" is converted before it
becomes a filter (``rag.money``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The currency every catalog price is stored and filtered in.
CATALOG_CURRENCY = "CNY"

#: Filterable keyword fields, in the order facets are shown.
FACET_FIELDS: tuple[str, ...] = (
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "colour",
    "season",
    "usage",
)

FacetField = Literal["gender", "master_category", "sub_category", "article_type", "colour", "season", "usage"]


class ProductDoc(BaseModel):
    """One product as the indexes see it (attributes from the catalog, availability from SQL)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    name: str
    brand: str | None = None
    gender: str | None = None
    master_category: str | None = None
    sub_category: str | None = None
    article_type: str | None = None
    colour: str | None = None
    season: str | None = None
    year: int | None = None
    usage: str | None = None
    #: The lowest current price over the product's SKUs, in ``CATALOG_CURRENCY``.
    price: float = Field(ge=0)
    in_stock: bool
    #: Sizes with stock > 0 right now (size labels as the catalog spells them: "M", "EU 40", "One Size").
    sizes_available: list[str] = Field(default_factory=list)
    image_url: str | None = None
    #: True when price, sizes and stock were generated (seeded) rather than supplied by a source.
    generated: bool = False

    def search_text(self) -> str:
        """The text both engines index: name plus the attribute words a person might type."""
        parts = [
            self.name,
            self.article_type,
            self.sub_category,
            self.colour,
            self.gender,
            self.season,
            self.usage,
        ]
        return " ".join(p for p in parts if p)


class SearchFilters(BaseModel):
    """Hard filters; an empty list means "any". Values are the catalog's own spellings."""

    model_config = ConfigDict(extra="forbid")

    gender: list[str] = Field(default_factory=list)
    master_category: list[str] = Field(default_factory=list)
    sub_category: list[str] = Field(default_factory=list)
    article_type: list[str] = Field(default_factory=list)
    colour: list[str] = Field(default_factory=list)
    season: list[str] = Field(default_factory=list)
    usage: list[str] = Field(default_factory=list)
    price_min: float | None = Field(default=None, ge=0)
    price_max: float | None = Field(default=None, ge=0)
    #: True: only products with some stock. None: any.
    in_stock: bool | None = None
    #: Only products with stock in this size.
    size: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _price_range(self) -> SearchFilters:
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValueError("price_min is above price_max")
        return self

    def merged(self, other: SearchFilters) -> SearchFilters:
        """``other``'s non-empty values win (explicit filters over ones read from the query text)."""
        data = self.model_dump()
        for name, value in other.model_dump().items():
            if value not in (None, []):
                data[name] = value
        return SearchFilters.model_validate(data)


class ScoredId(BaseModel):
    id: str
    score: float


class EngineResult(BaseModel):
    """What one engine (full-text or vector) returns: ranked ids, the match count, facet counts."""

    hits: list[ScoredId]
    #: How many documents matched (full-text) or were considered (vector, capped at its top-k).
    total: int
    #: field -> value -> count over all matches (full-text only; empty when not asked for).
    facets: dict[str, dict[str, int]] = Field(default_factory=dict)


SearchMode = Literal["fulltext", "vector", "hybrid"]


#: Spellings of the same size, so a person's "medium" finds stock labelled "M".
_SIZE_WORDS = {
    "extrasmall": "xs",
    "xsmall": "xs",
    "small": "s",
    "medium": "m",
    "large": "l",
    "extralarge": "xl",
    "xlarge": "xl",
    "2xl": "xxl",
    "xxlarge": "xxl",
    "3xl": "xxxl",
    "freesize": "onesize",
    "os": "onesize",
    "one": "onesize",
}


@lru_cache(maxsize=8192)
def size_key(label: str) -> str:
    """A forgiving comparison key: "m" == "M", "40" == "EU 40", "W32" == "32", "medium" == "M"."""
    key = re.sub(r"[\s_\-.]", "", label.strip().lower())
    key = key.removeprefix("eu").removeprefix("size")
    if key.startswith("w") and key[1:].isdigit():
        key = key[1:]
    return _SIZE_WORDS.get(key, key)
